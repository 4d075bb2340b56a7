//! `JoinHandle` and `AbortHandle`: the owner's side of a spawned task.
//!
//! A `JoinHandle` holds one task reference and `JOIN_INTEREST`; dropping it detaches
//! the task, which keeps running. Neither handle ever touches the future itself.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::header::Header;
use super::raw::Task;
use super::state::{Transition, COMPLETE};
use super::{Id, JoinError};

/// An owned permission to await a task's output; awaiting it yields
/// `Result<T, JoinError>`.
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the output is only moved out on the joining thread, and `T: Send` is required
// for it to come from another thread.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows abort and state queries, which are atomic.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` must be a task whose output type is `T`, with a reference and
    /// `JOIN_INTEREST` handed to this handle.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle holds a reference.
        unsafe { self.raw.as_ref() }
    }

    /// Ask the task to stop at its next suspension point. Awaiting the handle then
    /// gives `JoinError::Cancelled`, unless the task finished first.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let handle = zokio::spawn(std::future::pending::<()>());
    /// handle.abort();
    /// let err = handle.await.unwrap_err();
    /// assert!(err.is_cancelled());
    /// # });
    /// ```
    pub fn abort(&self) {
        abort_task(self.raw);
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().state.load().has(COMPLETE)
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        self.header().state.ref_inc();
        // SAFETY: we just took a reference for the new handle.
        AbortHandle {
            task: unsafe { Task::from_raw(self.raw) },
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().join.id()
    }
}

fn abort_task(raw: NonNull<Header>) {
    // SAFETY: callers hold a reference to the task.
    let header = unsafe { raw.as_ref() };
    if header.state.transition_to_notified_and_cancel() == Transition::Submit {
        // SAFETY: the transition took the reference for the new `Notified`.
        unsafe { (header.vtable.schedule)(raw) }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Joining spends the task's budget, as in tokio: a loop over ready handles
        // (a `JoinSet` of finished tasks) yields like any other resource.
        let coop = std::task::ready!(crate::task::coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `out` has the type the task's vtable writes, and we hold a reference.
        unsafe {
            (self.header().vtable.try_read_output)(
                self.raw,
                &mut out as *mut _ as *mut (),
                cx.waker(),
            )
        };
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: hands our reference and JOIN_INTEREST back to the task.
        unsafe { (self.header().vtable.drop_join_handle)(self.raw) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// A handle that can abort a task, without access to its output.
pub struct AbortHandle {
    task: Task,
}

impl AbortHandle {
    /// Ask the task to stop; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort_task(self.task.header_ptr());
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        // SAFETY: we hold a reference.
        unsafe { self.task.header_ptr().as_ref() }
            .state
            .load()
            .has(COMPLETE)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.task.id()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
