//! Shared helpers for the Zokio integration tests: runtime flavors, drop
//! counters, a hang-proof timeout wrapper and panic-message utilities.
#![allow(dead_code)]

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use zokio::runtime::{Builder, Runtime};

/// Marker put in the message of every panic a test triggers on purpose; the
/// panic hook installed by [`quiet_expected_panics`] does not print those.
pub const EXPECTED_PANIC: &str = "zokio-test-expected-panic";

/// Names of the runtimes returned by [`flavors`], in the same order.
pub const FLAVOR_NAMES: [&str; 3] = ["multi_thread(2)", "current_thread", "thread_per_core(2)"];

/// A multi-thread runtime with `workers` workers.
pub fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("building a multi-thread runtime")
}

/// A two-worker multi-thread runtime and a current-thread one, named.
pub fn multi_and_current() -> Vec<(&'static str, Runtime)> {
    vec![
        ("multi_thread", multi_thread(2)),
        ("current_thread", current_thread()),
    ]
}

/// A fresh path under the system's temporary directory, unique to this process
/// and call, ending in `name`; nothing is created there.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("zokio-test-{}-{n}-{name}", std::process::id()))
}

/// A current-thread runtime.
pub fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a current-thread runtime")
}

/// A thread-per-core runtime with `workers` workers.
pub fn thread_per_core(workers: usize) -> Runtime {
    Builder::new_thread_per_core()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("building a thread-per-core runtime")
}

/// One runtime of every flavor: multi_thread (2 workers), current_thread,
/// thread_per_core (2 workers).
pub fn flavors() -> Vec<Runtime> {
    vec![multi_thread(2), current_thread(), thread_per_core(2)]
}

/// [`flavors`] paired with a human readable name for assertion messages.
pub fn flavors_named() -> Vec<(&'static str, Runtime)> {
    FLAVOR_NAMES.iter().copied().zip(flavors()).collect()
}

/// Builders of every flavor (same order as [`flavors`]), for tests that need
/// to set extra options.
pub fn builders() -> Vec<(&'static str, Builder)> {
    let mut mt = Builder::new_multi_thread();
    mt.worker_threads(2);
    let ct = Builder::new_current_thread();
    let mut tpc = Builder::new_thread_per_core();
    tpc.worker_threads(2);
    vec![
        (FLAVOR_NAMES[0], mt),
        (FLAVOR_NAMES[1], ct),
        (FLAVOR_NAMES[2], tpc),
    ]
}

/// Counts how many times values holding it were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }
    /// A guard that increments this counter when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its [`DropCounter`] on drop.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that never completes and holds `guard` until it is dropped.
pub async fn pending_with(guard: DropGuard) {
    let _guard = guard;
    std::future::pending::<()>().await;
}

/// Runs `f` on a fresh thread and fails (panics) if it does not finish within
/// `limit`, so that a deadlock or lost wake-up fails the test instead of
/// hanging it. A panic inside `f` is propagated unchanged.
pub fn run_with_timeout<T, F>(limit: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("zokio-test-body".into())
        .spawn(move || {
            let out = f();
            let _ = tx.send(out);
        })
        .expect("spawning the test body thread");
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = thread.join();
            v
        }
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("test body ended without sending its result"),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("test body did not finish within {limit:?}: deadlock or lost wake-up")
        }
    }
}

/// [`run_with_timeout`] with the default limit used by the non-stress tests.
pub fn timed<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    run_with_timeout(Duration::from_secs(20), f)
}

/// The message of a panic payload, if it is a `&str` or a `String`.
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some((*s).to_string())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

/// Installs (once per test binary) a panic hook that stays silent for panics
/// whose message contains [`EXPECTED_PANIC`] and defers to the previous hook
/// for every other panic.
pub fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let expected = panic_message(info.payload())
                .map(|m| m.contains(EXPECTED_PANIC))
                .unwrap_or(false);
            if !expected {
                previous(info);
            }
        }));
    });
}

/// Repeatedly yields to the runtime until `cond` holds; panics after
/// `limit`. For state that has no channel to wait on (e.g. `is_finished`).
pub async fn yield_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        zokio::task::yield_now().await;
    }
}

/// Blocks the current (non-runtime) thread until `cond` holds; panics after
/// `limit`. Used only where the runtime offers nothing to wait on.
pub fn spin_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::yield_now();
    }
}

/// Boxes a future so tests can store heterogeneous futures.
pub fn boxed<F: Future<Output = ()> + Send + 'static>(
    f: F,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(f)
}
