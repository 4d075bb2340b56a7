//! Regression tests for bugs found in review: dropping a runtime on its own blocking
//! thread, a panicking join waker, and tasks left in a current-thread core held by
//! another thread at shutdown. Each hung or leaked before its fix.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs)).ok()
}

// Dropping a Runtime on one of its own blocking threads used to wait for itself.
#[test]
fn runtime_dropped_on_its_own_blocking_thread_does_not_wait_for_itself() {
    let done = within(5, || {
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

struct PanicWaker;
impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        panic!("user waker panics")
    }
}

// A panicking JoinHandle waker used to kill the (only) worker, stalling the runtime.
#[test]
fn panicking_join_waker_does_not_kill_the_worker() {
    let done = within(5, || {
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
        let w = Waker::from(Arc::new(PanicWaker));
        assert!(Pin::new(&mut jh)
            .poll(&mut Context::from_waker(&w))
            .is_pending());
        go.store(true, Ordering::Release);
        std::thread::sleep(Duration::from_millis(200));
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
    let done = within(5, || {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let mut jh = rt.spawn(std::future::pending::<()>());
        let w = Waker::from(Arc::new(PanicWaker));
        assert!(Pin::new(&mut jh)
            .poll(&mut Context::from_waker(&w))
            .is_pending());
        drop(rt);
        std::mem::forget(jh);
    });
    assert!(done.is_some(), "Runtime::drop hung");
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
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        dropped.load(Ordering::SeqCst),
        "scheduler Handle leaked after Runtime drop"
    );
}
