//! Under `MemoryStrategy::Pooled`, a burst of 1,000,000 tasks that all finish leaves
//! the process's resident memory within 10% of where it was before the burst, once
//! the pools have trimmed (a pooled thread gives its spare segments back after it has
//! been idle for a short while). A failure lists the mappings whose resident size
//! changed, to say where the memory stayed.
//!
//! One test in its own binary: resident memory is the whole process's, so nothing
//! else may run beside it.

// Needs the process's memory as `/proc` shows it (Unix); a Windows version is still to be written.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{run_with_timeout, BODY_GUARD, HANG_GUARD};
use zokio::runtime::{Builder, MemoryStrategy, Runtime};
use zokio::sync::Notify;

const BURST: usize = 1_000_000;

/// One mapping of this process as `/proc/self/smaps` shows it.
struct Mapping {
    end: usize,
    perms: String,
    /// The file or pseudo-file (`[heap]`, `[stack]`) mapped; empty for anonymous memory.
    name: String,
    resident_kib: usize,
}

/// Every mapping of this process by start address, from `/proc/self/smaps`: taken
/// before each burst so that, if the bound fails, the failure message can say which
/// mappings kept the difference.
fn mappings() -> BTreeMap<usize, Mapping> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("reading /proc/self/smaps");
    let mut all = BTreeMap::new();
    let mut start = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((from, to)) = first.split_once('-') {
            if let (Ok(from), Ok(to)) = (
                usize::from_str_radix(from, 16),
                usize::from_str_radix(to, 16),
            ) {
                let perms = fields.next().unwrap_or("").to_string();
                let name = fields.nth(3).unwrap_or("").to_string();
                all.insert(
                    from,
                    Mapping {
                        end: to,
                        perms,
                        name,
                        resident_kib: 0,
                    },
                );
                start = Some(from);
                continue;
            }
        }
        if first == "Rss:" {
            let kib = fields.next().and_then(|kib| kib.parse().ok()).unwrap_or(0);
            if let Some(mapping) = start.and_then(|start| all.get_mut(&start)) {
                mapping.resident_kib = kib;
            }
        }
    }
    all
}

/// The mappings whose resident size changed between two [`mappings`] snapshots, one
/// line each. A diagnostic for a failed bound: glibc's thread heaps show as anonymous
/// `rw-p` mappings at a 64 MiB boundary, a pool segment as a 64 KiB one, a run
/// queue's buffer as one of a power-of-two size.
fn residue(before: &BTreeMap<usize, Mapping>, after: &BTreeMap<usize, Mapping>) -> String {
    let mut lines = String::new();
    let starts: std::collections::BTreeSet<usize> =
        before.keys().chain(after.keys()).copied().collect();
    for start in starts {
        let was = before.get(&start).map_or(0, |m| m.resident_kib);
        let is = after.get(&start).map_or(0, |m| m.resident_kib);
        if was == is {
            continue;
        }
        let mapping = after.get(&start).or(before.get(&start)).expect("listed");
        let name = if mapping.name.is_empty() {
            "anonymous"
        } else {
            &mapping.name
        };
        lines += &format!(
            "\n  {start:#x} ({} KiB {}, {name}): {was} KiB -> {is} KiB resident",
            (mapping.end - start) / 1024,
            mapping.perms
        );
    }
    lines
}

/// Resident bytes of this process, from `/proc/self/statm`.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("reading /proc/self/statm");
    let resident: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    resident * page
}

/// How far a burst is: the count of finished tasks, and the wake-up the last one gives.
struct Progress {
    finished: AtomicUsize,
    all_done: Notify,
}

/// Spawns `count` tasks from a task (so from a worker's pool) without letting any run
/// first, so that all of them are alive at once, and waits until every one finished.
/// The last task to finish wakes the `block_on` future itself, so that on a
/// current-thread runtime `block_on` returns as its queue runs dry, without parking
/// first: the path on which the queue once kept its peak.
fn burst(rt: &Runtime, count: usize) {
    let progress = Arc::new(Progress {
        finished: AtomicUsize::new(0),
        all_done: Notify::new(),
    });
    let spawner = progress.clone();
    rt.block_on(async move {
        zokio::spawn(async move {
            for _ in 0..count {
                let progress = spawner.clone();
                drop(zokio::spawn(async move {
                    if progress.finished.fetch_add(1, Ordering::Relaxed) + 1 == count {
                        progress.all_done.notify_one();
                    }
                }));
            }
        })
        .await
        .unwrap();
        zokio::time::timeout(HANG_GUARD, progress.all_done.notified())
            .await
            .expect("the burst's tasks did not all finish");
    });
}

/// Waits until the pools stop shrinking (every thread slept long enough to trim).
fn settle() -> usize {
    let deadline = Instant::now() + HANG_GUARD;
    let mut last = zokio::memory::pooled_bytes();
    let mut unchanged_since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = zokio::memory::pooled_bytes();
        if now != last {
            last = now;
            unchanged_since = Instant::now();
        } else if unchanged_since.elapsed() >= Duration::from_millis(300) {
            return now;
        }
        assert!(Instant::now() < deadline, "the pools never settled");
    }
}

#[test]
fn a_million_task_burst_gives_its_memory_back() {
    run_with_timeout(BODY_GUARD, || {
        let mut multi = Builder::new_multi_thread();
        multi.worker_threads(2);
        for (name, mut builder) in [
            ("multi_thread(2)", multi),
            ("current_thread", Builder::new_current_thread()),
        ] {
            let rt = builder
                .memory(MemoryStrategy::Pooled)
                .enable_all()
                .build()
                .unwrap();
            // Warm-up: the runtime's own memory, and a first segment per pool, are
            // part of the level before the bursts.
            burst(&rt, 10_000);
            settle();
            for round in ["first", "second"] {
                let pooled_before = settle();
                let mapped_before = mappings();
                let before = rss_bytes();
                burst(&rt, BURST);
                let pooled_peak = zokio::memory::pooled_bytes();
                let pooled_after = settle();
                let after = rss_bytes();
                let change = (after as f64 / before as f64 - 1.0) * 100.0;
                eprintln!(
                    "{name}, {round} burst: resident {} KiB before, {} KiB after \
                     ({change:+.1}%); pools {} KiB before, {} KiB right after, {} KiB \
                     settled",
                    before / 1024,
                    after / 1024,
                    pooled_before / 1024,
                    pooled_peak / 1024,
                    pooled_after / 1024
                );
                // Every pool gives back all but a segment or two per thread.
                assert!(
                    pooled_after <= pooled_before + 4 * 64 * 1024,
                    "{name}, {round} burst: the pools kept {} KiB (before: {} KiB)",
                    pooled_after / 1024,
                    pooled_before / 1024
                );
                // The structures that grow with a burst (run queues, the task
                // registry's slabs) take their memory from mappings, unmapped whole when
                // they shrink: in glibc's per-thread heaps they stayed resident (a
                // thread heap's top is never trimmed), up to 14% here.
                if after > before + before / 10 {
                    panic!(
                        "{name}, {round} burst: resident memory {} KiB after the burst, \
                         more than 10% above the {} KiB before it (pools: {} KiB before, \
                         {} KiB after); mappings whose resident size changed:{}",
                        after / 1024,
                        before / 1024,
                        pooled_before / 1024,
                        pooled_after / 1024,
                        residue(&mapped_before, &mappings())
                    );
                }
            }
        }
    });
}
