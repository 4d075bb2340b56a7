//! Shared helpers for the Zokio integration tests: runtime flavors, drop
//! counters, hang guards, a hang-proof timeout wrapper and panic-message
//! utilities (including a panic hook that keeps expected panics quiet).
#![allow(dead_code)]

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use zokio::runtime::{Builder, Runtime};

#[cfg(target_os = "linux")]
mod signals_at_start;
#[cfg(target_os = "linux")]
#[allow(unused_imports)]
pub use signals_at_start::blocked_at_start;

/// How long any one wait inside a test (a task to finish, a buffer to be
/// released, a condition to hold) may take before the test calls it a hang.
///
/// A guard exists to turn a hang (a lost wake-up, a deadlock, a timer that never
/// fires) into a failure, not to measure speed: it is only ever reached when the
/// test fails, so it costs nothing when tests pass, and it is kept far above what
/// the slowest build takes (ThreadSanitizer, AddressSanitizer, debug on a loaded
/// 2-core machine), where everything runs 5 to 15 times slower.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// How long a whole test body may run under [`timed`] or [`run_with_timeout`]
/// before the test calls it a hang. Above [`HANG_GUARD`], so that a wait inside
/// the body reports its own, more telling, failure first.
pub const BODY_GUARD: Duration = Duration::from_secs(240);

/// Marker put in the message of every panic a test triggers on purpose; the
/// panic hook installed by [`quiet_expected_panics`] does not print those.
pub const EXPECTED_PANIC: &str = "zokio-test-expected-panic";

/// Names of the runtimes returned by [`flavors`], in the same order.
pub const FLAVOR_NAMES: [&str; 3] = ["multi_thread(2)", "current_thread", "thread_per_core(2)"];

/// Whether this Windows test runs under Wine rather than Windows: Wine's `ntdll`
/// exports `wine_get_version`, Windows' does not. For the few places where Wine
/// is known to differ from Windows; each says how.
#[cfg(windows)]
pub fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    // SAFETY: both names are NUL-terminated; `ntdll.dll` is loaded in every
    // process, and a missing export is a null result, not an error.
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

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

/// [`run_with_timeout`] with [`BODY_GUARD`], the limit of every test body.
pub fn timed<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    run_with_timeout(BODY_GUARD, f)
}

/// Run `scenario` on every runtime flavor in turn, each within [`HANG_GUARD`] and the
/// whole within [`BODY_GUARD`] (only a hang, such as a timer that never fires, gets
/// near either).
pub fn on_every_flavor<F, Fut>(scenario: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    timed(move || {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                zokio::time::timeout(HANG_GUARD, scenario())
                    .await
                    .unwrap_or_else(|_| panic!("{name}: timed out"));
            });
        }
    });
}

/// The message of a panic payload, if it is a `&str` or a `String`.
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some((*s).to_string())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

/// A panic, other than those marked with [`EXPECTED_PANIC`], that a test of this
/// binary provokes on purpose and that the panic hook does not print.
enum Quiet {
    /// A panic whose message is exactly this (a message the test does not
    /// choose: the runtime's own, or a user waker's).
    Message(String),
    /// A panic whose (non-string) payload this accepts.
    Payload(fn(&(dyn Any + Send)) -> bool),
}

/// What [`quiet_panics_with`] and [`quiet_panic_payloads`] registered; shared by
/// every test of the binary (the hook is process-wide).
static QUIET: Mutex<Vec<Quiet>> = Mutex::new(Vec::new());

/// Whether the panic hook keeps a panic with `payload` quiet.
fn is_expected_panic(payload: &(dyn Any + Send)) -> bool {
    let message = panic_message(payload);
    if message
        .as_deref()
        .is_some_and(|m| m.contains(EXPECTED_PANIC))
    {
        return true;
    }
    let quiet = QUIET.lock().unwrap_or_else(|e| e.into_inner());
    quiet.iter().any(|q| match q {
        Quiet::Message(m) => message.as_deref() == Some(m.as_str()),
        Quiet::Payload(accepts) => accepts(payload),
    })
}

/// Installs (once per test binary) a panic hook that stays silent for the panics
/// tests provoke on purpose and defers to the previous (default) hook for every
/// other panic, so that a real failure still prints its message and backtrace.
///
/// Silent are: panics whose message contains [`EXPECTED_PANIC`], panics whose
/// message is exactly one registered with [`quiet_panics_with`], and panics whose
/// payload is of a type registered with [`quiet_panic_payloads`].
///
/// Besides the noise, printing matters for time: with `RUST_BACKTRACE=1` the
/// default hook symbolises a backtrace, which under ThreadSanitizer takes seconds
/// per panic, on whatever thread panicked (a worker, in the middle of a test).
pub fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_expected_panic(info.payload()) {
                previous(info);
            }
        }));
    });
}

/// Keeps panics whose message is exactly one of `messages` quiet (see
/// [`quiet_expected_panics`], which this installs). For panics whose message the
/// test does not write itself; a test's own panics put [`EXPECTED_PANIC`] in
/// theirs instead. Only an exact match is quiet: any other panic still prints.
pub fn quiet_panics_with<S: AsRef<str>>(messages: &[S]) {
    quiet_expected_panics();
    let mut quiet = QUIET.lock().unwrap_or_else(|e| e.into_inner());
    for m in messages {
        let m = m.as_ref();
        if !quiet
            .iter()
            .any(|q| matches!(q, Quiet::Message(q) if q == m))
        {
            quiet.push(Quiet::Message(m.to_owned()));
        }
    }
}

/// Keeps panics whose payload is a `T` (raised with `std::panic::panic_any`)
/// quiet (see [`quiet_expected_panics`], which this installs).
pub fn quiet_panic_payloads<T: Any>() {
    fn accepts<T: Any>(payload: &(dyn Any + Send)) -> bool {
        payload.is::<T>()
    }
    quiet_expected_panics();
    QUIET
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Quiet::Payload(accepts::<T>));
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

/// Sets an environment variable for a test and puts it back as it was when dropped,
/// even if an assertion fails. Only for a binary with one test function: the process
/// environment is shared by every test thread.
pub struct EnvVar {
    name: &'static str,
    original: Option<std::ffi::OsString>,
}

impl EnvVar {
    pub fn new(name: &'static str) -> EnvVar {
        EnvVar {
            name,
            original: std::env::var_os(name),
        }
    }

    /// Set it to `value`, or unset it with `None`.
    pub fn set(&self, value: Option<&str>) {
        match value {
            Some(v) => std::env::set_var(self.name, v),
            None => std::env::remove_var(self.name),
        }
    }
}

impl Drop for EnvVar {
    fn drop(&mut self) {
        match self.original.take() {
            Some(value) => std::env::set_var(self.name, value),
            None => std::env::remove_var(self.name),
        }
    }
}

/// The three flavours (two workers where there are workers), built with `memory`.
pub fn flavors_with_memory(memory: zokio::runtime::MemoryStrategy) -> Vec<(&'static str, Runtime)> {
    let build = |mut builder: Builder| builder.memory(memory).enable_all().build().unwrap();
    let mut multi = Builder::new_multi_thread();
    multi.worker_threads(2);
    let mut per_core = Builder::new_thread_per_core();
    per_core.worker_threads(2);
    vec![
        (FLAVOR_NAMES[0], build(multi)),
        (FLAVOR_NAMES[1], build(Builder::new_current_thread())),
        (FLAVOR_NAMES[2], build(per_core)),
    ]
}
