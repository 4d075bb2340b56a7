//! The child process as Windows sees it (its id and process handle) and the one small
//! interface to its end: [`Process::try_reap`] (never waits) and [`Process::wait`].
//!
//! Waiting is `RegisterWaitForSingleObject` on the process handle: one of the
//! system's wait threads (each watches up to 63 handles) waits, and its callback
//! wakes the task. The blocking pool was the other way, and was not taken: it would
//! hold a whole pool thread per waiting child, blocked where nothing can cancel it,
//! so a dropped `wait` would leave it blocked until the child exits and a runtime
//! shutting down would wait for it. A registered wait is cancelled on drop
//! (`UnregisterWaitEx`, told to return only once a callback already running has
//! returned: the callback only sets a flag and wakes a task, so that is brief, and
//! afterwards nothing can touch the future's state).
//!
//! Windows has no zombies: a process handle keeps the exit code readable for as long
//! as it is open, and closing it (dropping the [`Process`]) is all the "reaping"
//! there is. The handle also keeps the process id from being reused, so `kill` never
//! reaches another process. Nothing here may block a worker.

use std::future::Future;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::os::windows::process::ExitStatusExt;
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use windows_sys::Win32::Foundation::{
    HANDLE, INVALID_HANDLE_VALUE, WAIT_FAILED, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, RegisterWaitForSingleObject, TerminateProcess, UnregisterWaitEx,
    WaitForSingleObject, INFINITE, WT_EXECUTEONLYONCE,
};

/// One spawned child, until and after it exited.
pub(crate) struct Process {
    pid: u32,
    handle: OwnedHandle,
    /// The exit status, once seen. Locked while it is looked for, so that every
    /// caller agrees on it.
    status: Mutex<Option<ExitStatus>>,
}

impl Process {
    /// Take charge of a child `std` spawned: keep its process handle (`std`'s handle
    /// of its first thread is closed).
    pub(crate) fn new(child: std::process::Child) -> Process {
        Process {
            pid: child.id(),
            handle: OwnedHandle::from(child),
            status: Mutex::new(None),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn raw_handle(&self) -> RawHandle {
        self.handle.as_raw_handle()
    }

    /// The exit status, if it was seen already.
    pub(crate) fn status(&self) -> Option<ExitStatus> {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The exit status if the child has exited; `Ok(None)` while it runs. Never waits.
    pub(crate) fn try_reap(&self) -> io::Result<Option<ExitStatus>> {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if status.is_none() && self.exited()? {
            let mut code = 0u32;
            // SAFETY: the handle is this child's, open while `self` lives; `code` is a
            // valid `u32` to write.
            if unsafe { GetExitCodeProcess(self.handle.as_raw_handle(), &mut code) } == 0 {
                return Err(self.error("read the exit code of"));
            }
            *status = Some(ExitStatus::from_raw(code));
        }
        Ok(*status)
    }

    /// Whether the process has ended (its handle is signalled). Never waits.
    fn exited(&self) -> io::Result<bool> {
        // SAFETY: the handle is this child's, open while `self` lives; a zero timeout
        // only looks.
        match unsafe { WaitForSingleObject(self.handle.as_raw_handle(), 0) } {
            WAIT_OBJECT_0 => Ok(true),
            WAIT_TIMEOUT => Ok(false),
            WAIT_FAILED => Err(self.error("look at")),
            other => Err(io::Error::other(format!(
                "could not look at child process {}: the wait answered {other:#x}",
                self.pid
            ))),
        }
    }

    /// Wait until the child exits; its exit status. The wait is the system's (see the
    /// module's documentation), so no thread of the runtime blocks.
    pub(crate) async fn wait(&self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_reap()? {
                return Ok(status);
            }
            ExitWait {
                process: self,
                registered: None,
            }
            .await?;
        }
    }

    /// End the child (`TerminateProcess`, exit code 1 as `std` uses), unless it has
    /// exited already.
    pub(crate) fn kill(&self) -> io::Result<()> {
        let status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if status.is_some() {
            return Ok(());
        }
        // SAFETY: the handle is this child's, open while `self` lives (so the process
        // it names is this child, even after it exited).
        if unsafe { TerminateProcess(self.handle.as_raw_handle(), 1) } != 0 {
            return Ok(());
        }
        let err = self.error("kill");
        // A process that has ended refuses to be terminated: nothing left to kill.
        if matches!(self.exited(), Ok(true)) {
            return Ok(());
        }
        Err(err)
    }

    /// The last OS error, saying what could not be done to this child.
    fn error(&self, what: &str) -> io::Error {
        let os = io::Error::last_os_error();
        io::Error::new(
            os.kind(),
            format!("could not {what} child process {}: {os}", self.pid),
        )
    }
}

/// A wait for a child's handle to be signalled, registered with the system's wait
/// threads on first poll and unregistered on drop.
struct ExitWait<'a> {
    process: &'a Process,
    registered: Option<Registered>,
}

/// What the wait's callback and the future share.
struct Signalled {
    /// Set by the callback, first thing: the handle was signalled, and the callback
    /// holds (and will drop) the reference it was handed.
    fired: AtomicBool,
    waker: AtomicWaker,
}

/// A live registration: the system's wait handle and the shared state, of which the
/// callback was handed one reference of its own.
struct Registered {
    wait: HANDLE,
    signalled: Arc<Signalled>,
}

// SAFETY: the wait handle is a value the system gave us, usable from any thread (it
// is only passed to `UnregisterWaitEx`); `Signalled` is `Send` and `Sync`.
unsafe impl Send for Registered {}
// SAFETY: as above; `&Registered` gives no access to the wait handle.
unsafe impl Sync for Registered {}

/// The wait's callback, on one of the system's threads, once the process ended.
unsafe extern "system" fn on_exit(context: *mut std::ffi::c_void, _timed_out: bool) {
    // SAFETY: `context` is the reference `Arc::into_raw` made for this callback in
    // `ExitWait::poll`; a wait registered to run once calls it once, so it is taken
    // back once.
    let signalled = unsafe { Arc::from_raw(context.cast_const().cast::<Signalled>()) };
    signalled.fired.store(true, Ordering::Release);
    signalled.waker.wake();
}

impl Future for ExitWait<'_> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(registered) = &this.registered {
            registered.signalled.waker.register(cx.waker());
            return if registered.signalled.fired.load(Ordering::Acquire) {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            };
        }
        let signalled = Arc::new(Signalled {
            fired: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        // Before registering: the callback may run at once.
        signalled.waker.register(cx.waker());
        let context = Arc::into_raw(signalled.clone());
        let mut wait: HANDLE = std::ptr::null_mut();
        // SAFETY: `wait` is a valid place for the new wait handle; the process handle
        // stays open while `self.process` lives, which outlives this future and so the
        // registration (unregistered in `drop`); `on_exit` takes back the reference
        // `context` holds, and is called at most once (`WT_EXECUTEONLYONCE`).
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                this.process.handle.as_raw_handle(),
                Some(on_exit),
                context.cast(),
                INFINITE,
                WT_EXECUTEONLYONCE,
            )
        };
        if ok == 0 {
            let err = this.process.error("wait for");
            // SAFETY: the registration failed, so the callback never got `context`:
            // it is still ours to take back.
            drop(unsafe { Arc::from_raw(context) });
            return Poll::Ready(Err(err));
        }
        let fired = signalled.fired.load(Ordering::Acquire);
        this.registered = Some(Registered { wait, signalled });
        if fired {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        // `INVALID_HANDLE_VALUE`: return once a callback already running has returned,
        // so that afterwards the callback either ran to its end or never will.
        // SAFETY: `wait` is the live registration `RegisterWaitForSingleObject` gave.
        if unsafe { UnregisterWaitEx(self.wait, INVALID_HANDLE_VALUE) } == 0 {
            // The registration could not be cancelled: the callback may still run,
            // so its reference stays with it.
            log::warn!(
                "zokio::process could not cancel a wait for a child: {}",
                io::Error::last_os_error()
            );
            return;
        }
        if !self.signalled.fired.load(Ordering::Acquire) {
            // SAFETY: the callback never ran and never will (the registration is
            // gone), so the reference `poll` handed it is still ours to take back;
            // `self.signalled` is a clone of the same `Arc`, so the pointer is that
            // allocation's.
            drop(unsafe { Arc::from_raw(Arc::as_ptr(&self.signalled)) });
        }
    }
}
