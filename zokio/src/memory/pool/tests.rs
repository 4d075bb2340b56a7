//! Unit tests of the pool through its thread-local entry points. Each test runs its
//! pool work on a thread of its own, so that its figures are its own pool's whatever
//! other tests run beside it (and whether or not the harness runs tests on threads).
//! Named `miri_pool_*`: CI runs them under Miri with strict provenance, so they stay
//! small. Nothing here may rely on timing.

use std::alloc::Layout;
use std::collections::HashSet;
use std::ptr::NonNull;
use std::thread;

use super::class::CLASS_SIZES;
use super::owner::HIGH_WATER_BYTES;
use super::segment::{Segment, SEGMENT_SIZE};
use super::stats::ledger;
use super::{alloc, dealloc, process_segments, stats, trim, with_local};

/// A block pointer that may cross threads (the test hands blocks over on purpose).
struct Sent(NonNull<u8>);
// SAFETY: the pool's blocks may be freed on any thread; the tests move each block to
// exactly one other thread and stop using it on the first.
unsafe impl Send for Sent {}

fn on_own_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    thread::spawn(f).join().expect("the test thread panicked")
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).unwrap()
}

fn pool_id() -> u64 {
    with_local(|pool| pool.id()).unwrap()
}

/// Fills a block with a pattern and checks it, so Miri sees every byte used.
fn scribble(block: NonNull<u8>, size: usize, byte: u8) {
    // SAFETY: the block is ours and at least `size` bytes long.
    unsafe {
        block.as_ptr().write_bytes(byte, size);
        assert!(std::slice::from_raw_parts(block.as_ptr(), size)
            .iter()
            .all(|&b| b == byte));
    }
}

#[test]
fn miri_pool_every_class_hands_out_aligned_blocks_and_reuses_freed_ones() {
    on_own_thread(|| {
        for (class, &size) in CLASS_SIZES.iter().enumerate() {
            for align in [1, 8, 16] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let first = alloc(layout);
                let second = alloc(layout);
                assert_eq!(first.addr().get() % align, 0, "class {class}");
                assert_eq!(second.addr().get() % align, 0, "class {class}");
                assert_ne!(first, second);
                scribble(first, size, 0xA5);
                scribble(second, size, 0x5A);
                // SAFETY: both came from `alloc` with this layout.
                unsafe { dealloc(first, layout) };
                let again = alloc(layout);
                assert_eq!(
                    again, first,
                    "class {class}: the freed block comes back first"
                );
                // SAFETY: as above.
                unsafe {
                    dealloc(again, layout);
                    dealloc(second, layout);
                }
            }
        }
        let figures = stats();
        assert_eq!(figures.live_blocks, 0);
        assert_eq!(
            figures.segments_held,
            CLASS_SIZES.len(),
            "one segment per class"
        );
        assert_eq!(trim(), CLASS_SIZES.len());
        assert_eq!(stats().bytes_held, 0);
    });
}

#[test]
fn miri_pool_a_48_byte_layout_costs_48_bytes_and_a_share_of_a_header() {
    on_own_thread(|| {
        let layout = layout(48);
        let first = alloc(layout);
        let capacity = {
            let segment = Segment::of(first);
            // SAFETY: the block is out, so its segment is allocated.
            unsafe { segment.as_ref().capacity() }
        };
        let mut blocks = vec![first];
        blocks.extend((1..capacity).map(|_| alloc(layout)));
        for pair in blocks.windows(2) {
            assert_eq!(
                pair[1].addr().get() - pair[0].addr().get(),
                48,
                "blocks are packed"
            );
        }
        let figures = stats();
        assert_eq!(
            figures.segments_held, 1,
            "{capacity} blocks fill exactly one segment"
        );
        assert_eq!(figures.free_blocks, 0);
        let bytes_per_block = figures.bytes_held as f64 / capacity as f64;
        assert!(
            bytes_per_block < 48.5,
            "{bytes_per_block} bytes per 48-byte block"
        );
        blocks.push(alloc(layout));
        assert_eq!(stats().segments_held, 2);
        for block in blocks {
            // SAFETY: every block came from `alloc` with this layout.
            unsafe { dealloc(block, layout) };
        }
        trim();
    });
}

#[test]
fn miri_pool_blocks_freed_on_other_threads_return_to_their_owner() {
    on_own_thread(|| {
        let layout = layout(40);
        let blocks: Vec<NonNull<u8>> = (0..64).map(|_| alloc(layout)).collect();
        let acquired = stats().segments_acquired;
        let sent: Vec<Sent> = blocks.into_iter().map(Sent).collect();
        thread::spawn(move || {
            for Sent(block) in sent {
                scribble(block, 40, 0x11);
                // SAFETY: each block came from `alloc` with this layout; this thread
                // is its only user now.
                unsafe { dealloc(block, layout) };
            }
            assert_eq!(stats().segments_held, 0, "the freeing thread took nothing");
        })
        .join()
        .unwrap();
        assert_eq!(
            stats().live_blocks,
            64,
            "uncollected returns still count as live"
        );
        assert!(process_segments() >= stats().segments_held);
        // The current segment still has room, so allocation carves on; the returns
        // are collected once it runs dry or when trimming.
        assert_eq!(
            trim(),
            1,
            "trimming collects the returns and frees the segment"
        );
        assert_eq!(stats().segments_held, 0);

        // Returns are reused: fill a segment, free it all remotely, and the next
        // allocations collect the batch instead of taking a segment.
        let first = alloc(layout);
        // SAFETY: the block is out, so its segment is allocated.
        let capacity = unsafe { Segment::of(first).as_ref().capacity() };
        let mut blocks = vec![first];
        blocks.extend((1..capacity).map(|_| alloc(layout)));
        let addresses: HashSet<usize> = blocks.iter().map(|b| b.addr().get()).collect();
        let acquired_after_fill = stats().segments_acquired;
        assert_eq!(acquired_after_fill, acquired + 1);
        let sent: Vec<Sent> = blocks.into_iter().map(Sent).collect();
        thread::spawn(move || {
            for Sent(block) in sent {
                // SAFETY: as above.
                unsafe { dealloc(block, layout) };
            }
        })
        .join()
        .unwrap();
        let again: Vec<NonNull<u8>> = (0..capacity).map(|_| alloc(layout)).collect();
        assert!(again.iter().all(|b| addresses.contains(&b.addr().get())));
        assert_eq!(
            stats().segments_acquired,
            acquired_after_fill,
            "no new segment"
        );
        for block in again {
            // SAFETY: as above, freed on the owner thread this time.
            unsafe { dealloc(block, layout) };
        }
        assert_eq!(stats().live_blocks, 0);
        trim();
    });
}

#[test]
fn miri_pool_steady_state_takes_no_new_segment() {
    on_own_thread(|| {
        let small = layout(48);
        let large = layout(512);
        let round = |cross_thread: bool| {
            let blocks: Vec<Sent> = (0..300)
                .map(|i| Sent(alloc(if i % 3 == 0 { large } else { small })))
                .collect();
            let free = move || {
                for (i, Sent(block)) in blocks.into_iter().enumerate() {
                    let layout = if i % 3 == 0 { large } else { small };
                    // SAFETY: each block came from `alloc` with this layout.
                    unsafe { dealloc(block, layout) };
                }
            };
            if cross_thread {
                thread::spawn(free).join().unwrap();
            } else {
                free();
            }
        };
        // Warm up: both kinds of free, so each class has a segment.
        round(false);
        round(true);
        round(true);
        let warm = stats().segments_acquired;
        for i in 0..6 {
            round(i % 2 == 0);
        }
        assert_eq!(
            stats().segments_acquired,
            warm,
            "steady state takes no segment"
        );
        trim();
        assert_eq!(stats().segments_held, 0);
    });
}

#[test]
fn miri_pool_is_bounded_by_its_high_water_mark() {
    on_own_thread(|| {
        // The largest class has the fewest blocks per segment, which keeps this short.
        let layout = layout(1024);
        let first = alloc(layout);
        // SAFETY: the block is out, so its segment is allocated.
        let per_segment = unsafe { Segment::of(first).as_ref().capacity() };
        // SAFETY: it came from `alloc` with this layout.
        unsafe { dealloc(first, layout) };
        let segments = HIGH_WATER_BYTES / SEGMENT_SIZE + 4;
        let blocks: Vec<NonNull<u8>> = (0..segments * per_segment).map(|_| alloc(layout)).collect();
        assert!(stats().segments_held >= segments);
        for block in blocks {
            // SAFETY: each block came from `alloc` with this layout.
            unsafe { dealloc(block, layout) };
        }
        let figures = stats();
        assert_eq!(figures.live_blocks, 0);
        assert!(
            figures.bytes_held <= HIGH_WATER_BYTES + 2 * SEGMENT_SIZE,
            "{} bytes cached past the high-water mark",
            figures.bytes_held
        );
        assert!(figures.segments_released > 0);
        trim();
        assert_eq!(stats().bytes_held, 0);
    });
}

#[test]
fn miri_pool_an_exited_owners_segments_are_freed_by_the_last_free() {
    let layout = layout(64);
    let (id, kept, capacity) = on_own_thread(move || {
        let first = alloc(layout);
        // SAFETY: the block is out, so its segment is allocated.
        let capacity = unsafe { Segment::of(first).as_ref().capacity() };
        let mut blocks = vec![first];
        // Two segments and a half: the first two full, the third partly used.
        blocks.extend((1..capacity * 2 + capacity / 2).map(|_| alloc(layout)));
        assert_eq!(stats().segments_held, 3);
        // Free the whole second segment (released at exit) and all but a few blocks of
        // the others: some on this thread, some from another (left uncollected).
        let second: Vec<NonNull<u8>> = blocks.drain(capacity..capacity * 2).collect();
        for block in second {
            // SAFETY: each block came from `alloc` with this layout.
            unsafe { dealloc(block, layout) };
        }
        let mut kept: Vec<Sent> = blocks.drain(..3).map(Sent).collect();
        kept.extend(blocks.drain(blocks.len() - 2..).map(Sent));
        let (local, remote) = blocks.split_at(blocks.len() / 2);
        for &block in local {
            // SAFETY: as above.
            unsafe { dealloc(block, layout) };
        }
        let remote: Vec<Sent> = remote.iter().copied().map(Sent).collect();
        thread::spawn(move || {
            for Sent(block) in remote {
                // SAFETY: as above.
                unsafe { dealloc(block, layout) };
            }
        })
        .join()
        .unwrap();
        (pool_id(), kept, capacity)
    });
    assert!(capacity > 3);
    assert_eq!(
        ledger::of(id),
        (3, 1),
        "the wholly free segment went at exit"
    );
    let mut kept = kept.into_iter();
    let last = kept.next_back().unwrap();
    for Sent(block) in kept {
        scribble(block, 64, 0x77);
        // SAFETY: as above; the owner is gone, so this is a free to an abandoned segment.
        unsafe { dealloc(block, layout) };
    }
    assert_eq!(
        ledger::of(id),
        (3, 2),
        "the first segment went with its last block"
    );
    // SAFETY: as above.
    unsafe { dealloc(last.0, layout) };
    assert_eq!(
        ledger::of(id),
        (3, 3),
        "every segment released exactly once"
    );
}

#[test]
fn miri_pool_an_owner_exiting_with_every_block_returned_remotely_frees_at_exit() {
    let layout = layout(32);
    let id = on_own_thread(move || {
        let blocks: Vec<Sent> = (0..10).map(|_| Sent(alloc(layout))).collect();
        thread::spawn(move || {
            for Sent(block) in blocks {
                // SAFETY: each block came from `alloc` with this layout.
                unsafe { dealloc(block, layout) };
            }
        })
        .join()
        .unwrap();
        assert_eq!(stats().live_blocks, 10, "not collected yet");
        pool_id()
    });
    assert_eq!(
        ledger::of(id),
        (1, 1),
        "the owner counted the returns off at exit"
    );
}

#[test]
fn miri_pool_large_and_overaligned_layouts_use_the_global_allocator() {
    on_own_thread(|| {
        for layout in [
            Layout::from_size_align(4096, 8).unwrap(),
            Layout::from_size_align(64, 64).unwrap(),
            Layout::from_size_align(0, 4096).unwrap(),
        ] {
            let block = alloc(layout);
            assert_eq!(block.addr().get() % layout.align(), 0);
            scribble(block, layout.size(), 0x3C);
            // SAFETY: it came from `alloc` with this layout.
            unsafe { dealloc(block, layout) };
        }
        assert_eq!(stats().segments_acquired, 0);
    });
}

#[test]
fn miri_pool_a_block_allocated_without_a_thread_pool_is_freed_with_its_segment() {
    // What a thread-local destructor gets once the thread's pool is gone.
    let block = Sent(super::alloc_without_local_pool(
        super::class::class_of(layout(48)).expect("48 bytes are pooled"),
    ));
    let segment = Segment::of(block.0);
    // SAFETY: the block is out, so its segment is allocated.
    let owner = unsafe { segment.as_ref().owner() };
    assert_eq!(ledger::of(owner), (1, 0));
    scribble(block.0, 48, 0x42);
    thread::spawn(move || {
        let block = block;
        // SAFETY: it came from a 48-byte class; this is its only free.
        unsafe { dealloc(block.0, layout(48)) };
    })
    .join()
    .unwrap();
    assert_eq!(ledger::of(owner), (1, 1));
}

#[test]
fn miri_pool_returns_spread_over_many_segments_are_found_round_the_list() {
    on_own_thread(|| {
        let layout = layout(1024);
        let first = alloc(layout);
        // SAFETY: the block is out, so its segment is allocated.
        let capacity = unsafe { Segment::of(first).as_ref().capacity() };
        let segments = super::owner::MAX_SCAN + 4;
        let mut blocks = vec![first];
        blocks.extend((1..capacity * segments).map(|_| alloc(layout)));
        let figures = stats();
        assert_eq!((figures.segments_held, figures.free_blocks), (segments, 0));
        // One block back from every segment but the current (last) one, remotely.
        let returned: Vec<Sent> = (0..segments - 1)
            .map(|segment| Sent(blocks.swap_remove(segment * capacity)))
            .collect();
        let addresses: HashSet<usize> = returned.iter().map(|b| b.0.addr().get()).collect();
        thread::spawn(move || {
            for Sent(block) in returned {
                // SAFETY: each block came from `alloc` with this layout.
                unsafe { dealloc(block, layout) };
            }
        })
        .join()
        .unwrap();
        for _ in 0..segments - 1 {
            let block = alloc(layout);
            assert!(
                addresses.contains(&block.addr().get()),
                "a returned block is reused"
            );
            blocks.push(block);
        }
        assert_eq!(stats().segments_acquired, segments as u64, "no new segment");
        for block in blocks {
            // SAFETY: each block came from `alloc` with this layout.
            unsafe { dealloc(block, layout) };
        }
        assert_eq!(trim(), segments);
    });
}

#[test]
fn miri_pool_remote_frees_run_while_the_owner_allocates() {
    // Under Miri this is the data-race check of the return path's block links: the
    // freer writes each link while the owner is busy allocating (and collecting).
    on_own_thread(|| {
        let layout = layout(1024);
        let (to_freer, freer_gets) = std::sync::mpsc::channel::<Sent>();
        let freer = thread::spawn(move || {
            for Sent(block) in freer_gets {
                // SAFETY: each block came from `alloc` with this layout; the channel
                // handed it to this thread alone.
                unsafe { dealloc(block, layout) };
            }
        });
        let mut kept = Vec::new();
        for round in 0..120 {
            let block = alloc(layout);
            scribble(block, 64, round as u8);
            if round % 4 == 0 {
                kept.push(block);
            } else {
                to_freer.send(Sent(block)).unwrap();
            }
        }
        drop(to_freer);
        freer.join().unwrap();
        for block in kept {
            // SAFETY: as above, freed on the owner thread.
            unsafe { dealloc(block, layout) };
        }
        trim();
        let figures = stats();
        assert_eq!((figures.live_blocks, figures.segments_held), (0, 0));
    });
}
