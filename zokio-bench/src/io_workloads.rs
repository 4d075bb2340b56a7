//! `nop_rate`: how many no-op operations a second go through Zokio's I/O
//! path, and through a bare io_uring ring driven by hand with the `io-uring`
//! crate, the ceiling any runtime on a ring can reach.
//!
//! The raw ring must stay the plainest correct loop (no batching tricks
//! Zokio could not use, no skipped completions), or the ratio means nothing.
//! Workload code only: rows and sizes are chosen in `groups`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::runtimes::{BenchRuntime, Zokio};
use crate::workloads::{wait, Countdown, TickOnDrop};

/// Runs `ops` nops spread over `threads` threads, each with its own ring and
/// an equal share of `depth` operations kept in flight; returns the time from
/// the moment all rings are set up until the last thread is done.
#[cfg(target_os = "linux")]
pub fn raw_nops(threads: usize, depth: usize, ops: usize) -> std::io::Result<Duration> {
    use std::sync::Barrier;
    use std::thread;

    let threads = threads.max(1);
    let share = depth.div_ceil(threads).max(1);
    if threads == 1 {
        let mut ring = raw::ring()?;
        let start = Instant::now();
        raw::drive(&mut ring, share, ops)?;
        return Ok(start.elapsed());
    }
    let barrier = Arc::new(Barrier::new(threads + 1));
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        // The first threads take the remainder, so every op is run once.
        let mine = ops / threads + usize::from(t < ops % threads);
        let barrier = barrier.clone();
        handles.push(
            thread::Builder::new()
                .name(format!("raw-ring-{t}"))
                .spawn(move || {
                    let ring = raw::ring();
                    // Everyone reaches the barrier, even a thread whose ring
                    // failed, so nobody waits forever.
                    barrier.wait();
                    raw::drive(&mut ring?, share, mine)
                })?,
        );
    }
    barrier.wait();
    let start = Instant::now();
    let mut first_error = None;
    for h in handles {
        let result = h
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("raw ring thread panicked")));
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    let took = start.elapsed();
    first_error.map_or(Ok(took), Err)
}

#[cfg(not(target_os = "linux"))]
pub fn raw_nops(_threads: usize, _depth: usize, _ops: usize) -> std::io::Result<Duration> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "io_uring is Linux-only",
    ))
}

#[cfg(target_os = "linux")]
pub(crate) mod raw {
    use std::io;

    use io_uring::{opcode, IoUring};

    /// Submission entries; completions get twice that, as in Zokio's rings.
    const ENTRIES: u32 = 256;

    /// A ring with the cheapest flags the kernel accepts, tried in the order
    /// Zokio tries them, so both sides get the same kernel mode.
    pub fn ring() -> io::Result<IoUring> {
        ring_of(ENTRIES)
    }

    /// `ring`, with `entries` submission entries (and twice that for completions).
    pub fn ring_of(entries: u32) -> io::Result<IoUring> {
        let mut last = None;
        for (single, coop) in [(true, true), (false, true), (false, false)] {
            let mut b = IoUring::builder();
            b.setup_cqsize(entries * 2);
            if single {
                b.setup_single_issuer();
            }
            if coop {
                b.setup_coop_taskrun().setup_taskrun_flag();
            }
            match b.build(entries) {
                Ok(ring) => return Ok(ring),
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EINVAL)))
    }

    /// Runs `ops` nops with up to `depth` in flight: fill to `depth`, one
    /// `submit_and_wait(1)`, reap every completion there is, refill, repeat.
    /// At depth 1 that is exactly push, submit_and_wait(1), pop.
    pub fn drive(ring: &mut IoUring, depth: usize, ops: usize) -> io::Result<()> {
        let (submitter, mut sq, mut cq) = ring.split();
        let nop = opcode::Nop::new().build().user_data(0x6e6f70);
        let (mut submitted, mut completed, mut in_flight) = (0usize, 0usize, 0usize);
        while completed < ops {
            while in_flight < depth && submitted < ops {
                // SAFETY: a Nop entry refers to no memory at all.
                unsafe { sq.push(&nop) }
                    .map_err(|_| io::Error::other("raw ring: submission queue full"))?;
                submitted += 1;
                in_flight += 1;
            }
            sq.sync();
            submitter.submit_and_wait(1)?;
            cq.sync();
            for cqe in &mut cq {
                if cqe.result() < 0 {
                    return Err(io::Error::from_raw_os_error(-cqe.result()));
                }
                completed += 1;
                in_flight -= 1;
            }
        }
        Ok(())
    }
}

/// `tasks` tasks each awaiting `zokio::io::ops::nop()` `per_task` times;
/// returns the time from the first spawn until the bench thread sees the last
/// one finish. Panics (in the bench thread) if any nop failed.
pub fn zokio_nops(rt: &Zokio, tasks: usize, per_task: usize) -> Duration {
    let failed: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let (cd, done) = Countdown::new(tasks);
    for _ in 0..tasks {
        let tick = TickOnDrop(cd.clone());
        let failed = failed.clone();
        rt.spawn(async move {
            let _tick = tick;
            for _ in 0..per_task {
                if let Err(e) = zokio::io::ops::nop().await {
                    *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                    break;
                }
            }
        });
    }
    drop(cd);
    rt.block_on(wait(done));
    let took = start.elapsed();
    if let Some(e) = failed.lock().unwrap_or_else(|e| e.into_inner()).take() {
        panic!("zokio nop failed: {e}");
    }
    took
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn raw_ring_runs_every_op() {
        // Kernels or sandboxes without io_uring make this a no-op test.
        if raw::ring().is_err() {
            return;
        }
        raw_nops(1, 1, 100).unwrap();
        raw_nops(1, 64, 1_000).unwrap();
        raw_nops(3, 64, 1_001).unwrap();
    }
}
