//! Regression tests for bugs found in review: dropping a runtime on its own blocking
//! thread, a panicking join waker, and tasks left in a current-thread core held by
//! another thread at shutdown. Each hung or leaked before its fix.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use common::{quiet_expected_panics, spin_until, EXPECTED_PANIC, HANG_GUARD};

/// Runs `f` on a fresh thread: `None` if it has not returned within [`HANG_GUARD`]
/// (the hang these tests guard against); a panic in `f` is propagated.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(v) => Some(v),
        Err(RecvTimeoutError::Timeout) => None,
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the body ended without sending its result"),
        },
    }
}

// Dropping a Runtime on one of its own blocking threads used to wait for itself.
#[test]
fn runtime_dropped_on_its_own_blocking_thread_does_not_wait_for_itself() {
    let done = within(|| {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let rt = Arc::new(std::sync::Mutex::new(Some(rt)));
        let rt2 = rt.clone();
        let (tx, rx) = mpsc::channel();
        let guard = rt.lock().unwrap();
        let _jh = guard.as_ref().unwrap().spawn_blocking(move || {
            let rt = rt2.lock().unwrap().take().unwrap();
            drop(rt); // <- never returns
            tx.send(()).unwrap();
        });
        drop(guard);
        rx.recv().unwrap();
    });
    assert!(
        done.is_some(),
        "Runtime::drop on its own blocking thread hung"
    );
}

/// A user's join waker that panics when woken; `fired` is set just before.
struct PanicWaker {
    fired: Arc<AtomicBool>,
}

/// A [`PanicWaker`], and the flag it sets when woken.
fn panicking_waker() -> (Waker, Arc<AtomicBool>) {
    let fired = Arc::new(AtomicBool::new(false));
    let waker = Waker::from(Arc::new(PanicWaker {
        fired: fired.clone(),
    }));
    (waker, fired)
}

impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        self.fired.store(true, Ordering::SeqCst);
        // Expected: the hook installed by `quiet_expected_panics` does not print it.
        panic!("{EXPECTED_PANIC}: user waker panics")
    }
}

// A panicking JoinHandle waker used to kill the (only) worker, stalling the runtime.
#[test]
fn panicking_join_waker_does_not_kill_the_worker() {
    quiet_expected_panics();
    let done = within(|| {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let go = Arc::new(AtomicBool::new(false));
        let g = go.clone();
        let mut jh = rt.spawn(std::future::poll_fn(move |cx| {
            if g.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }));
        let (w, fired) = panicking_waker();
        assert!(Pin::new(&mut jh)
            .poll(&mut Context::from_waker(&w))
            .is_pending());
        go.store(true, Ordering::Release);
        // The worker completes the task and calls the panicking waker.
        spin_until(HANG_GUARD, "the join waker to be woken", || {
            fired.load(Ordering::SeqCst)
        });
        // Before the fix the worker died in `complete` and nothing ran any more.
        let v = rt.block_on(rt.spawn(async { 7 })).unwrap();
        drop(rt);
        v
    });
    assert_eq!(
        done,
        Some(7),
        "runtime stalled after a panicking join waker"
    );
}

// The same waker fired by shutdown's cancellation used to make Runtime::drop hang.
#[test]
fn panicking_join_waker_does_not_hang_shutdown() {
    quiet_expected_panics();
    let done = within(|| {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let mut jh = rt.spawn(std::future::pending::<()>());
        let (w, fired) = panicking_waker();
        assert!(Pin::new(&mut jh)
            .poll(&mut Context::from_waker(&w))
            .is_pending());
        drop(rt);
        std::mem::forget(jh);
        fired.load(Ordering::SeqCst)
    });
    assert!(done.is_some(), "Runtime::drop hung");
    assert_eq!(
        done,
        Some(true),
        "shutdown's cancellation did not wake the join waker"
    );
}

struct Flag(Arc<AtomicBool>);
impl Drop for Flag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst)
    }
}

// current_thread: a Notified left in a core that another thread held at shutdown
// formed Handle -> core -> Notified -> task -> Arc<Handle>, leaking the Handle.
#[test]
fn current_thread_core_held_elsewhere_at_shutdown_frees_its_tasks() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Flag(dropped.clone());
    let rt = zokio::runtime::Builder::new_current_thread()
        .on_thread_start(move || {
            let _ = &flag;
        })
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let (in_tx, in_rx) = mpsc::channel::<()>();
    let (out_tx, out_rx) = mpsc::channel::<()>();
    let b = std::thread::spawn(move || {
        handle.block_on(async move {
            let _jh = zokio::spawn(async {}); // queued in the core B holds
            in_tx.send(()).unwrap();
            out_rx.recv().unwrap(); // hold the core while the runtime is dropped
        });
        drop(handle);
    });
    in_rx.recv().unwrap();
    drop(rt);
    out_tx.send(()).unwrap();
    b.join().unwrap();
    // Normally dropped by now; a leak never is.
    spin_until(HANG_GUARD, "the scheduler Handle to be dropped", || {
        dropped.load(Ordering::SeqCst)
    });
}
