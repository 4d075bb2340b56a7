//! Cancellation safety of the owned-buffer operations, with whichever driver
//! `ZOKIO_DRIVER` picks, on every scheduler flavour.
//!
//! What "safe" means here. Dropping an in-flight operation must never free memory the
//! kernel may still write, and must never lose track of the buffer (it is dropped
//! exactly once, when the kernel is done). On epoll a dropped read never started its
//! system call, so it consumes nothing. On io_uring the cancel may lose the race
//! with the data: the kernel may already have read into the dropped operation's
//! buffer. That is the documented io_uring behaviour and is accepted, but it must be
//! exact: the tests use buffers pre-filled with a canary byte that report their
//! whole memory when the runtime finally drops them, so every byte written into the
//! pipe is found either in the cancelled buffer (as a prefix) or in the next read,
//! never lost silently and never anywhere else.

// Tests the descriptor operations of `io::ops`, which Windows does not have yet.
#![cfg(unix)]

mod common;
mod io_common;

use std::future::Future;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{flavors_named, run_with_timeout, BODY_GUARD, FLAVOR_NAMES, HANG_GUARD};
use futures::future::{select, Either};
use io_common::*;
use zokio::io::ops;
use zokio::io::Interest;
use zokio::runtime::{DriverKind, Handle, Runtime};
use zokio::sync::mpsc;

/// Room of the read that gets cancelled; the payload is longer, so that read can
/// never take all of it.
const CANCELLED_ROOM: usize = 64;
const PAYLOAD: usize = 100;

/// Payload of iteration `i`: bytes below 200, never the canary.
fn payload(i: usize) -> Vec<u8> {
    (0..PAYLOAD)
        .map(|j| ((i * 31 + j * 7) % 200) as u8)
        .collect()
}

/// Waits (asynchronously) for the memory of a dropped buffer, with a limit.
async fn dropped_memory(rx: &mut mpsc::UnboundedReceiver<Vec<u8>>, what: &str) -> Vec<u8> {
    match zokio::time::timeout(HANG_GUARD, rx.recv()).await {
        Ok(Some(memory)) => memory,
        Ok(None) => panic!("{what}: the buffer's reporter vanished without reporting"),
        Err(_) => panic!(
            "{what}: the cancelled operation's buffer was not released within {HANG_GUARD:?}"
        ),
    }
}

/// Checks that `consumed ++ later == expected`, where `consumed` is what the
/// cancelled read's buffer holds. Returns whether the cancelled read consumed data.
fn check_conservation(
    what: &str,
    kind: DriverKind,
    memory: &[u8],
    later: &[u8],
    expected: &[u8],
) -> bool {
    let consumed = written_prefix(memory);
    assert!(
        memory[consumed.len()..].iter().all(|&b| b == CANARY),
        "{what}: the kernel wrote into the cancelled buffer past its first bytes: {memory:?}"
    );
    assert!(
        consumed.len() <= CANCELLED_ROOM,
        "{what}: wrote past the buffer's room"
    );
    let mut all = consumed.to_vec();
    all.extend_from_slice(later);
    assert!(
        all == expected,
        "{what}: data lost or corrupted: cancelled read holds {consumed:?}, the next read got \
         {later:?}, {expected:?} was written"
    );
    if !consumed.is_empty() {
        #[cfg(target_os = "linux")]
        assert_eq!(
            kind,
            DriverKind::IoUring,
            "{what}: on epoll a dropped read must never consume data"
        );
        // Only io_uring (Linux) may consume data for a dropped read.
        #[cfg(not(target_os = "linux"))]
        panic!("{what}: on the {kind} driver a dropped read must never consume data");
    }
    !consumed.is_empty()
}

/// Read whatever is in the pipe now and assert it is empty afterwards.
async fn read_rest(r: &OwnedFd, what: &str) -> Vec<u8> {
    let (res, buf) = ops::read(r.as_fd(), Vec::with_capacity(4096)).await;
    let n = res.unwrap_or_else(|e| panic!("{what}: read after the cancel: {e}"));
    assert_eq!(n, buf.len());
    let mut probe = [0u8; 8];
    // SAFETY: reads into a live stack buffer from our own non-blocking pipe.
    let left = unsafe { libc::read(r.as_raw_fd(), probe.as_mut_ptr().cast(), probe.len()) };
    assert_eq!(
        left, -1,
        "{what}: bytes left in the pipe after reading it out"
    );
    buf
}

/// One round of: start a read on an empty pipe, drop it in flight (how depends on
/// `i`), write the payload, read it back, and account for every byte.
async fn cancel_round(i: usize, stats: &BufStats, kind: DriverKind, flavor: &str) -> bool {
    let what = format!("{flavor} iteration {i} mode {}", i % 4);
    let (r, w) = pipe();
    let r = Arc::new(r);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let buf = stats.buf(CANCELLED_ROOM).report_to(tx);
    match i % 4 {
        // Dropped right after the first poll: the operation was just handed to the
        // driver (on io_uring maybe not yet submitted to the kernel).
        0 => {
            let mut read = Box::pin(ops::read(r.as_fd(), buf));
            assert!(
                futures::poll!(read.as_mut()).is_pending(),
                "{what}: empty pipe read ready"
            );
            drop(read);
        }
        // Dropped after a few yields: the worker had a chance to submit it.
        1 => {
            let mut read = Box::pin(ops::read(r.as_fd(), buf));
            assert!(
                futures::poll!(read.as_mut()).is_pending(),
                "{what}: empty pipe read ready"
            );
            for _ in 0..3 {
                zokio::task::yield_now().await;
            }
            drop(read);
        }
        // Lost a race against a timer: the worker parked meanwhile, so the read was
        // surely in the kernel's (or epoll's) hands.
        2 => {
            let read = Box::pin(ops::read(r.as_fd(), buf));
            let timer = Box::pin(ops::timeout(Duration::from_millis(1)));
            match select(read, timer).await {
                Either::Left(((res, _), _)) => panic!("{what}: read of an empty pipe: {res:?}"),
                Either::Right((res, read)) => {
                    res.unwrap();
                    drop(read);
                }
            }
        }
        // The task holding the read is aborted (possibly on another worker).
        _ => {
            let r2 = r.clone();
            let started = Arc::new(AtomicUsize::new(0));
            let started2 = started.clone();
            let task = zokio::spawn(async move {
                started2.store(1, Ordering::SeqCst);
                let (res, _) = ops::read(r2.as_fd(), buf).await;
                panic!("read of an empty pipe completed: {res:?}");
            });
            let deadline = Instant::now() + HANG_GUARD;
            while started.load(Ordering::SeqCst) == 0 {
                assert!(
                    Instant::now() < deadline,
                    "{what}: the reader task never ran"
                );
                zokio::task::yield_now().await;
            }
            ops::timeout(Duration::from_millis(1)).await.unwrap();
            task.abort();
            let err = task.await.expect_err("aborted reader");
            assert!(err.is_cancelled(), "{what}: {err}");
        }
    }
    let expected = payload(i);
    if i % 2 == 0 {
        let (res, _) = ops::write(w.as_fd(), expected.clone()).await;
        assert_eq!(res.unwrap(), PAYLOAD, "{what}: write");
    } else {
        write_all_sync(w.as_raw_fd(), &expected);
    }
    let later = read_rest(&r, &what).await;
    let memory = dropped_memory(&mut rx, &what).await;
    check_conservation(&what, kind, &memory, &later, &expected)
}

/// (a) Cancel a pending pipe read 1,000 times per flavour, then write and read again:
/// all data is accounted for and nothing crashes.
#[test]
fn dropped_read_in_flight_then_write_and_read_again() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let stats = BufStats::new();
            let kind = rt.driver_kind();
            // Half the rounds on the block_on thread (not a worker on multi-thread
            // runtimes), half in a spawned task (on a worker).
            let consumed_here = rt.block_on({
                let stats = stats.clone();
                async move {
                    let mut consumed = 0;
                    for i in 0..500 {
                        consumed += cancel_round(i, &stats, kind, name).await as usize;
                    }
                    consumed
                }
            });
            let consumed_task = rt
                .block_on(rt.spawn({
                    let stats = stats.clone();
                    async move {
                        let mut consumed = 0;
                        for i in 500..1_000 {
                            consumed += cancel_round(i, &stats, kind, name).await as usize;
                        }
                        consumed
                    }
                }))
                .unwrap();
            drop(rt);
            assert_eq!(stats.created(), 1_000, "{name}");
            assert_eq!(stats.dropped(), 1_000, "{name}: cancelled buffers leaked");
            eprintln!(
                "{name} ({kind:?}): the cancelled read had consumed data in {} of 1000 rounds",
                consumed_here + consumed_task
            );
        }
    });
}

/// While the runtime keeps running, aborting many tasks with reads in flight frees
/// every buffer (the cancels complete without waiting for shutdown), and the pipes
/// keep working for new readers.
#[test]
fn aborted_readers_release_buffers_while_running() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let stats = BufStats::new();
            let pipes: Vec<(Arc<OwnedFd>, OwnedFd)> = (0..20)
                .map(|_| pipe())
                .map(|(r, w)| (Arc::new(r), w))
                .collect();
            let started = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..2_000)
                .map(|t| {
                    let r = pipes[t % pipes.len()].0.clone();
                    let buf = stats.buf(32);
                    let started = started.clone();
                    rt.spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        let (res, _) = ops::read(r.as_fd(), buf).await;
                        panic!("read of an empty pipe completed: {res:?}");
                    })
                })
                .collect();
            rt.block_on(async {
                let deadline = Instant::now() + HANG_GUARD;
                while started.load(Ordering::SeqCst) < 2_000 {
                    assert!(Instant::now() < deadline, "{name}: readers did not start");
                    ops::timeout(Duration::from_millis(1)).await.unwrap();
                }
                ops::timeout(Duration::from_millis(10)).await.unwrap();
                for t in &tasks {
                    t.abort();
                }
                for t in tasks {
                    assert!(t.await.unwrap_err().is_cancelled(), "{name}");
                }
                let deadline = Instant::now() + HANG_GUARD;
                while stats.dropped() < stats.created() {
                    assert!(
                        Instant::now() < deadline,
                        "{name}: {} of {} cancelled buffers still held {HANG_GUARD:?} after the \
                         aborts",
                        stats.created() - stats.dropped(),
                        stats.created()
                    );
                    ops::timeout(Duration::from_millis(2)).await.unwrap();
                }
                // The pipes still work, with nothing consumed by the cancelled reads
                // (nothing was written while they were in flight).
                for (i, (r, w)) in pipes.iter().enumerate() {
                    let data = payload(i);
                    let (res, _) = ops::write(w.as_fd(), data.clone()).await;
                    res.unwrap();
                    assert_eq!(read_rest(r, name).await, data, "{name}: pipe {i}");
                }
            });
        }
    });
}

/// (b) Drop a runtime with 10,000 operations in flight: 8,000 pipe reads, 1,000
/// long kernel timeouts, 500 readiness waits, 500 writes into full pipes. Shutdown
/// must not wait for the operations (an hour-long timeout among them), must not
/// crash, and must release every buffer exactly once.
#[test]
fn shutdown_with_10k_operations_in_flight() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            shutdown_with_ops_in_flight(name, rt);
        }
    });
}

fn shutdown_with_ops_in_flight(name: &str, rt: Runtime) {
    let stats = BufStats::new();
    let started = Arc::new(AtomicUsize::new(0));
    // Read ends waited on; their write ends stay open (no EOF) until after shutdown.
    let read_pipes: Vec<(Arc<OwnedFd>, OwnedFd)> = (0..100)
        .map(|_| pipe())
        .map(|(r, w)| (Arc::new(r), w))
        .collect();
    // Write ends of full pipes; their read ends stay open (no EPIPE).
    let full_pipes: Vec<(OwnedFd, Arc<OwnedFd>)> = (0..10)
        .map(|_| {
            let (r, w) = pipe();
            let chunk = [0x55u8; 4096];
            loop {
                // SAFETY: writes from a live buffer into our own non-blocking pipe.
                let n = unsafe { libc::write(w.as_raw_fd(), chunk.as_ptr().cast(), chunk.len()) };
                if n < 0 {
                    break;
                }
            }
            (r, Arc::new(w))
        })
        .collect();
    let mut total = 0;
    for (r, _) in &read_pipes {
        for _ in 0..80 {
            let (r, buf, started) = (r.clone(), stats.buf(16), started.clone());
            rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                let (res, _) = ops::read(r.as_fd(), buf).await;
                panic!("read of an empty pipe completed: {res:?}");
            });
            total += 1;
        }
    }
    for _ in 0..1_000 {
        let started = started.clone();
        rt.spawn(async move {
            started.fetch_add(1, Ordering::SeqCst);
            let res = ops::timeout(Duration::from_secs(3600)).await;
            panic!("an hour-long timeout completed: {res:?}");
        });
        total += 1;
    }
    for i in 0..500 {
        let r = read_pipes[i % read_pipes.len()].0.clone();
        let started = started.clone();
        rt.spawn(async move {
            started.fetch_add(1, Ordering::SeqCst);
            let res = ops::poll_ready(r.as_fd(), Interest::READABLE).await;
            panic!("an empty pipe became readable: {res:?}");
        });
        total += 1;
    }
    for (_, w) in &full_pipes {
        for _ in 0..50 {
            let (w, buf, started) = (w.clone(), stats.full_buf(512, 0x66), started.clone());
            rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                let (res, _) = ops::write(w.as_fd(), buf).await;
                panic!("a write into a full pipe completed: {res:?}");
            });
            total += 1;
        }
    }
    assert_eq!(total, 10_000);
    rt.block_on(async {
        let deadline = Instant::now() + HANG_GUARD;
        while started.load(Ordering::SeqCst) < total {
            assert!(
                Instant::now() < deadline,
                "{name}: only {} of {total} tasks started",
                started.load(Ordering::SeqCst)
            );
            ops::timeout(Duration::from_millis(1)).await.unwrap();
        }
        // Let the last submissions reach the kernel.
        ops::timeout(Duration::from_millis(20)).await.unwrap();
    });
    let start = Instant::now();
    drop(rt);
    let took = start.elapsed();
    // Only a shutdown that waits for the operations gets near this (they would
    // take an hour); io_uring cancels that never complete show as leaked buffers.
    assert!(took < HANG_GUARD, "{name}: shutdown took {took:?}");
    assert_eq!(
        stats.dropped(),
        stats.created(),
        "{name}: {} of {} in-flight buffers not released by shutdown",
        stats.created() - stats.dropped(),
        stats.created()
    );
    // Nothing was read from the pipes or written into the full ones.
    for (r, _) in &read_pipes {
        let mut probe = [0u8; 1];
        // SAFETY: as above.
        let n = unsafe { libc::read(r.as_raw_fd(), probe.as_mut_ptr().cast(), 1) };
        assert_eq!(n, -1, "{name}: a pipe had data after shutdown");
    }
    eprintln!("{name}: shutdown with {total} operations in flight took {took:?}");
    drop(full_pipes);
    drop(read_pipes);
}

type BoxedRead = Pin<Box<dyn Future<Output = usize> + Send>>;

/// A read of `r` into a tracked buffer that reports its memory on drop, as a boxed
/// future that owns the descriptor (so it can move between threads).
fn boxed_read(r: Arc<OwnedFd>, stats: &BufStats, tx: mpsc::UnboundedSender<Vec<u8>>) -> BoxedRead {
    let buf = stats.buf(CANCELLED_ROOM).report_to(tx);
    Box::pin(async move {
        let (res, buf) = ops::read(r.as_fd(), buf).await;
        let n = res.expect("read");
        assert_eq!(buf.filled().len(), n);
        // Hand the data back through the memory report instead of the result.
        n
    })
}

/// (c) An operation polled on one thread and dropped on another: a plain thread
/// outside the runtime, another task (maybe another worker), or the `block_on`
/// thread. The cancel travels to the driver that owns the operation.
#[test]
// A task hands an in-flight operation back to the test on purpose.
#[allow(clippy::async_yields_async)]
fn dropped_on_another_thread_than_submitted() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let stats = BufStats::new();
            let kind = rt.driver_kind();
            let mut consumed = 0;
            for i in 0..300 {
                let what = format!("{name} round {i} mode {}", i % 3);
                let (r, w) = pipe();
                let r = Arc::new(r);
                let (tx, mut rx) = mpsc::unbounded_channel();
                let read = boxed_read(r.clone(), &stats, tx);
                match i % 3 {
                    // Polled on a worker, dropped on a thread outside the runtime.
                    0 => {
                        let read = rt
                            .block_on(rt.spawn(async move {
                                let mut read = read;
                                assert!(futures::poll!(read.as_mut()).is_pending());
                                zokio::task::yield_now().await;
                                read
                            }))
                            .unwrap();
                        std::thread::spawn(move || drop(read)).join().unwrap();
                    }
                    // Polled on the block_on thread, dropped in a task on a worker.
                    1 => rt.block_on(async {
                        let mut read = read;
                        assert!(futures::poll!(read.as_mut()).is_pending());
                        ops::timeout(Duration::from_millis(1)).await.unwrap();
                        zokio::spawn(async move { drop(read) }).await.unwrap();
                    }),
                    // Polled in one task, sent to another task that drops it.
                    _ => rt.block_on(async {
                        let (send, recv) = zokio::sync::oneshot::channel::<BoxedRead>();
                        let dropper = zokio::spawn(async move {
                            let read = recv.await.unwrap();
                            zokio::task::yield_now().await;
                            drop(read);
                        });
                        zokio::spawn(async move {
                            let mut read = read;
                            assert!(futures::poll!(read.as_mut()).is_pending());
                            zokio::task::yield_now().await;
                            let _ = send.send(read);
                        })
                        .await
                        .unwrap();
                        dropper.await.unwrap();
                    }),
                }
                let expected = payload(i);
                write_all_sync(w.as_raw_fd(), &expected);
                let hit = rt.block_on(async {
                    let later = read_rest(&r, &what).await;
                    let memory = dropped_memory(&mut rx, &what).await;
                    check_conservation(&what, kind, &memory, &later, &expected)
                });
                consumed += hit as usize;
            }
            drop(rt);
            assert_eq!(stats.dropped(), stats.created(), "{name}: buffers leaked");
            eprintln!("{name} ({kind:?}): cross-thread drops consumed data in {consumed} of 300");
        }
    });
}

/// An operation polled in one task and finished in another (on a multi-thread
/// runtime, likely on another worker): it completes on the driver it was submitted
/// to and wakes the task that holds it now, with the data intact.
#[test]
fn operation_moved_to_another_task_completes_there() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let stats = BufStats::new();
            rt.block_on(async {
                for i in 0..200 {
                    let (r, w) = pipe();
                    let r = Arc::new(r);
                    let (tx, mut rx) = mpsc::unbounded_channel();
                    let read = boxed_read(r.clone(), &stats, tx);
                    let (send, recv) = zokio::sync::oneshot::channel::<BoxedRead>();
                    let finisher = zokio::spawn(async move { recv.await.unwrap().await });
                    zokio::spawn(async move {
                        let mut read = read;
                        assert!(futures::poll!(read.as_mut()).is_pending());
                        let _ = send.send(read);
                    })
                    .await
                    .unwrap();
                    let expected = payload(i);
                    ops::timeout(Duration::from_millis(1)).await.unwrap();
                    let (res, _) = ops::write(w.as_fd(), expected.clone()).await;
                    res.unwrap();
                    let n = finisher.await.unwrap();
                    assert_eq!(n, CANCELLED_ROOM, "{name} round {i}: a full read");
                    let memory = dropped_memory(&mut rx, name).await;
                    assert_eq!(memory, expected[..CANCELLED_ROOM], "{name} round {i}");
                    assert_eq!(read_rest(&r, name).await, expected[CANCELLED_ROOM..]);
                }
            });
            drop(rt);
            assert_eq!(stats.dropped(), stats.created(), "{name}: buffers leaked");
        }
    });
}

/// Timeouts and readiness waits dropped in flight, from their own thread and from
/// others, many times: no crash, no leak, the runtime keeps serving.
#[test]
fn dropped_timeouts_and_readiness_waits() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let (r, _w) = pipe();
            let r = Arc::new(r);
            rt.block_on(async {
                for i in 0..300 {
                    let mut timeout = Box::pin(ops::timeout(Duration::from_secs(3600)));
                    assert!(futures::poll!(timeout.as_mut()).is_pending());
                    let r2 = r.clone();
                    let mut ready: Pin<Box<dyn Future<Output = _> + Send>> =
                        Box::pin(
                            async move { ops::poll_ready(r2.as_fd(), Interest::READABLE).await },
                        );
                    assert!(futures::poll!(ready.as_mut()).is_pending());
                    if i % 2 == 0 {
                        zokio::task::yield_now().await;
                        drop((timeout, ready));
                    } else {
                        std::thread::spawn(move || drop((timeout, ready)))
                            .join()
                            .unwrap();
                    }
                }
                let start = Instant::now();
                ops::timeout(Duration::from_millis(5)).await.unwrap();
                assert!(start.elapsed() >= Duration::from_millis(5), "{name}");
                ops::nop().await.unwrap();
            });
        }
    });
}

/// Dropping a runtime whose block_on thread is gone while operations submitted from
/// a non-worker thread are still in flight (they sit in a worker's driver).
#[test]
fn shutdown_with_operations_from_the_block_on_thread() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let stats = BufStats::new();
            let (r, w) = pipe();
            let mut reads = Vec::new();
            rt.block_on(async {
                for _ in 0..300 {
                    let mut read = Box::pin(ops::read(r.as_fd(), stats.buf(8)));
                    assert!(futures::poll!(read.as_mut()).is_pending());
                    reads.push(read);
                }
                ops::timeout(Duration::from_millis(5)).await.unwrap();
            });
            // The futures outlive the runtime: dropping them afterwards must be fine.
            let start = Instant::now();
            drop(rt);
            // Only a shutdown that waits for the reads (no data ever comes) gets
            // near this; cancels that never complete show as leaked buffers.
            assert!(
                start.elapsed() < HANG_GUARD,
                "{name}: slow shutdown ({:?})",
                start.elapsed()
            );
            drop(reads);
            assert_eq!(stats.dropped(), stats.created(), "{name}: buffers leaked");
            drop((r, w));
        }
    });
}

/// A runtime handle used from a plain thread after the runtime is gone: operations
/// that need the driver fail cleanly (no panic, no hang). (On epoll, operations that
/// need no waiting, like `nop`, run as plain system calls and may still succeed.)
#[test]
fn operations_after_shutdown_fail_cleanly() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            if name == FLAVOR_NAMES[1] {
                // A current-thread handle runs its own block_on; covered elsewhere.
                continue;
            }
            let handle: Handle = rt.handle().clone();
            drop(rt);
            let _guard = handle.enter();
            let check = |what: &str, err: std::io::Error| {
                let msg = err.to_string();
                assert!(msg.contains("shutting down"), "{name} {what}: {msg}");
            };
            let res = futures::executor::block_on(ops::timeout(Duration::from_millis(1)));
            check(
                "timeout",
                res.expect_err("a timeout on a runtime that is gone"),
            );
            let (r, w) = pipe();
            let (res, buf) =
                futures::executor::block_on(ops::read(r.as_fd(), Vec::with_capacity(8)));
            check("read", res.expect_err("a read on a runtime that is gone"));
            assert!(buf.capacity() >= 8, "{name}: the buffer comes back");
            // Both drivers refuse alike, even operations that epoll could run as a
            // plain system call (a nop, a write into a pipe with room).
            let res = futures::executor::block_on(ops::nop());
            check("nop", res.expect_err("a nop on a runtime that is gone"));
            let (res, _) = futures::executor::block_on(ops::write(w.as_fd(), vec![1u8; 4]));
            check("write", res.expect_err("a write on a runtime that is gone"));
        }
    });
}

/// A cancelled operation's buffer is dropped by the driver that owned the operation,
/// while that worker is about to sleep (it handles the cancel request in its park).
/// A task woken from that drop (a buffer pool's permit, a channel) must still run:
/// the worker must not go to sleep with it queued.
#[test]
// A task hands an in-flight operation back to the test on purpose.
#[allow(clippy::async_yields_async)]
fn wake_from_a_cancelled_buffer_drop_is_not_lost() {
    run_with_timeout(BODY_GUARD, || {
        let mut lost = Vec::new();
        for (name, rt) in flavors_named() {
            let stats = BufStats::new();
            let (r, _w) = pipe();
            let r = Arc::new(r);
            for round in 0..20 {
                let (tx, mut rx) = mpsc::unbounded_channel();
                let polled = Arc::new(AtomicUsize::new(0));
                let polled2 = polled.clone();
                let waiter = rt.spawn(async move {
                    polled2.store(1, Ordering::SeqCst);
                    rx.recv().await.is_some()
                });
                let r2 = r.clone();
                let read = boxed_read(r2, &stats, tx);
                // Submitted from a task, so it belongs to a worker's driver.
                let read = rt
                    .block_on(rt.spawn(async move {
                        let mut read = read;
                        assert!(futures::poll!(read.as_mut()).is_pending());
                        read
                    }))
                    .unwrap();
                rt.block_on(async {
                    while polled.load(Ordering::SeqCst) == 0 {
                        ops::timeout(Duration::from_millis(1)).await.unwrap();
                    }
                    // Let every worker go idle.
                    ops::timeout(Duration::from_millis(5)).await.unwrap();
                });
                // Dropped off the runtime: the cancel travels to the owning driver.
                std::thread::spawn(move || drop(read)).join().unwrap();
                let start = Instant::now();
                // A lost wake-up is lost for good (the worker parks without a
                // timeout): only then is the guard reached.
                let woke = rt.block_on(async { zokio::time::timeout(HANG_GUARD, waiter).await });
                if !matches!(woke, Ok(Ok(true))) {
                    lost.push(format!(
                        "{name} ({:?}) round {round}: not run within {:?} ({woke:?})",
                        rt.driver_kind(),
                        start.elapsed()
                    ));
                    break;
                }
            }
            drop(rt);
            assert_eq!(stats.dropped(), stats.created(), "{name}");
        }
        assert!(
            lost.is_empty(),
            "a task woken by a cancelled buffer's drop (in the owning driver's park) never \
             ran: lost wake-ups: {lost:#?}"
        );
    });
}

/// An operation submitted from a thread that is not a worker waits in the owning
/// driver's request queue until that worker next turns its driver. If a task on that
/// very worker drops the operation before then, the cancel must still take effect:
/// the buffer is released without any data arriving (none ever does here: a cancel
/// that is lost keeps it for good, which [`HANG_GUARD`] turns into a failure).
#[test]
fn dropped_on_the_owner_before_it_saw_the_submission() {
    run_with_timeout(BODY_GUARD, || {
        let mut stuck = Vec::new();
        let runtimes = [
            (
                "multi_thread(1)",
                zokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .event_interval(200)
                    .build()
                    .unwrap(),
            ),
            (
                "thread_per_core(1)",
                zokio::runtime::Builder::new_thread_per_core()
                    .worker_threads(1)
                    .event_interval(200)
                    .build()
                    .unwrap(),
            ),
            (
                "current_thread",
                zokio::runtime::Builder::new_current_thread()
                    .event_interval(200)
                    .build()
                    .unwrap(),
            ),
        ];
        for (name, rt) in runtimes {
            let stats = BufStats::new();
            let (r, _w) = pipe();
            let r = Arc::new(r);
            for round in 0..30 {
                let slot: Arc<std::sync::Mutex<Option<BoxedRead>>> = Arc::default();
                let (tx, _rx) = mpsc::unbounded_channel();
                // A task that keeps the worker busy and drops the operation the moment
                // it appears, before the worker turns its driver again.
                let dropper = rt.spawn({
                    let slot = slot.clone();
                    async move {
                        loop {
                            if let Some(read) = slot.lock().unwrap().take() {
                                drop(read);
                                return;
                            }
                            zokio::task::yield_now().await;
                        }
                    }
                });
                // Submitted from a plain thread inside the runtime: it goes through
                // the (only) worker's request queue.
                let handle = rt.handle().clone();
                let read = boxed_read(r.clone(), &stats, tx);
                let slot2 = slot.clone();
                std::thread::spawn(move || {
                    let _guard = handle.enter();
                    let mut read = read;
                    futures::executor::block_on(async {
                        assert!(futures::poll!(read.as_mut()).is_pending());
                    });
                    *slot2.lock().unwrap() = Some(read);
                })
                .join()
                .unwrap();
                let released = rt.block_on(async {
                    dropper.await.unwrap();
                    let deadline = Instant::now() + HANG_GUARD;
                    while stats.dropped() < stats.created() && Instant::now() < deadline {
                        ops::timeout(Duration::from_millis(2)).await.unwrap();
                    }
                    stats.dropped() == stats.created()
                });
                if !released {
                    stuck.push(format!(
                        "{name} ({:?}) round {round}: the dropped read's buffer is still held \
                         {HANG_GUARD:?} later (the operation stays registered until data \
                         arrives)",
                        rt.driver_kind()
                    ));
                    break;
                }
            }
        }
        assert!(stuck.is_empty(), "cancel lost: {stuck:#?}");
    });
}

/// A flood of submit-and-cancel pairs from the `block_on` thread of a one-worker
/// runtime (that thread is not a worker, so every submission and every cancel crosses
/// to the worker's request queue), against a worker kept busy so that it turns its
/// driver seldom and the queue fills: the flooder is slowed by the bounded queue, the
/// worker applies a batch per turn between its own tasks, so a task of the worker keeps
/// running all along, and every buffer comes back.
#[test]
fn a_flood_of_submit_and_cancel_from_another_thread_starves_no_worker() {
    run_with_timeout(BODY_GUARD, || {
        let rt = common::multi_thread(1);
        let stats = BufStats::new();
        let (r, w) = pipe();
        let ticks = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticker = rt.spawn({
            let (ticks, stop) = (ticks.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::SeqCst) {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    // Busy between yields, so that the worker turns its driver
                    // seldom and the queue fills up.
                    let spin = Instant::now();
                    while spin.elapsed() < Duration::from_millis(1) {
                        std::hint::spin_loop();
                    }
                    zokio::task::yield_now().await;
                }
            }
        });
        rt.block_on(async {
            let before = ticks.load(Ordering::SeqCst);
            let started = Instant::now();
            let mut pairs = 0usize;
            while pairs < 10_000 || ticks.load(Ordering::SeqCst) < before + 200 {
                assert!(
                    started.elapsed() < HANG_GUARD,
                    "the worker's task ticked {} times during {pairs} submit-and-cancel pairs",
                    ticks.load(Ordering::SeqCst) - before
                );
                let mut read = Box::pin(ops::read(r.as_fd(), stats.buf(8)));
                assert!(futures::poll!(read.as_mut()).is_pending());
                drop(read);
                pairs += 1;
            }
        });
        stop.store(true, Ordering::SeqCst);
        rt.block_on(ticker).unwrap();
        drop(rt);
        assert_eq!(stats.dropped(), stats.created(), "buffers leaked");
        drop((r, w));
    });
}
