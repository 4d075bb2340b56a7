//! The workload of the `process` group: spawn a program and wait for it, many
//! times, a fixed number in flight at once, on a multi-thread runtime.
//!
//! The same workload is written once per runtime (the types differ, the steps do
//! not) and returns what it measured: the wall time, and the process's CPU time
//! and context switches over the run (`getrusage(RUSAGE_SELF)`: every thread of
//! this process, the children excluded). It must never know which row it feeds,
//! and never give one runtime a step the other does not take.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The program each spawn runs.
pub const PROGRAM: &str = "/bin/true";

/// What one run measured.
pub struct Measured {
    pub took: Duration,
    pub cpu: Duration,
    pub switches: u64,
}

/// CPU time (user + system) and context switches (voluntary + involuntary) of
/// every thread of this process so far.
fn usage() -> (Duration, u64) {
    // SAFETY: all zeroes is a `rusage` value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage`.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (
        tv(ru.ru_utime) + tv(ru.ru_stime),
        (ru.ru_nvcsw + ru.ru_nivcsw) as u64,
    )
}

/// Time `run` and take the usage it caused.
fn measure(run: impl FnOnce()) -> Measured {
    let (cpu0, cs0) = usage();
    let start = Instant::now();
    run();
    let took = start.elapsed();
    let (cpu1, cs1) = usage();
    Measured {
        took,
        cpu: cpu1.saturating_sub(cpu0),
        switches: cs1.saturating_sub(cs0),
    }
}

/// A multi-thread Zokio runtime with `workers` workers, on its default driver.
pub fn zokio_runtime(workers: usize) -> io::Result<zokio::runtime::Runtime> {
    zokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
}

/// A multi-thread tokio runtime with `workers` workers and its drivers on (its
/// process support needs the I/O and signal drivers).
pub fn tokio_runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}

/// The one workload both runtimes run, written once so that they cannot drift apart:
/// `total` spawn-and-wait of [`PROGRAM`] on `$rt`, by `at_once` tasks of `$krate`
/// (`zokio` or `tokio`) that each take the next one until all are done.
macro_rules! spawn_wait {
    ($krate:ident, $rt:expr, $total:expr, $at_once:expr) => {{
        let (total, at_once) = ($total, $at_once);
        measure(|| {
            $rt.block_on(async {
                let next = Arc::new(AtomicU64::new(0));
                let tasks: Vec<_> = (0..at_once)
                    .map(|_| {
                        let next = Arc::clone(&next);
                        $krate::spawn(async move {
                            while next.fetch_add(1, Ordering::Relaxed) < total {
                                let status = $krate::process::Command::new(PROGRAM)
                                    .status()
                                    .await
                                    .expect("spawning and waiting for /bin/true");
                                assert!(status.success());
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("a spawning task panicked");
                }
            })
        })
    }};
}

/// The spawn-and-wait workload on Zokio.
pub fn zokio_spawn_wait(rt: &zokio::runtime::Runtime, total: u64, at_once: usize) -> Measured {
    spawn_wait!(zokio, rt, total, at_once)
}

/// The same workload on tokio.
pub fn tokio_spawn_wait(rt: &tokio::runtime::Runtime, total: u64, at_once: usize) -> Measured {
    spawn_wait!(tokio, rt, total, at_once)
}
