//! Task references (`Task`, `Notified`) and the untyped entry points through the vtable.
//!
//! A `Task` owns one reference count; a `Notified` is a `Task` that may run. Both are a
//! single pointer so that run queues stay dense. Nothing here knows the future type:
//! that lives in `harness.rs`.

use std::ptr::NonNull;

use super::header::Header;
use super::Id;

/// One counted reference to a task.
pub(crate) struct Task {
    ptr: NonNull<Header>,
}

/// A reference that carries the right to run the task once (`NOTIFIED` was set for it).
pub(crate) struct Notified(Task);

// SAFETY: the header's shared state is synchronised (see `header.rs`) and schedulers
// are `Send + Sync`. The future and output are only reached through the vtable by the
// thread that owns them: any thread for `Send` futures, the `LocalSet`'s own thread for
// the rest (`new_local_task`'s contract), so moving a reference moves neither.
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Task {
    /// # Safety
    /// `ptr` must point to a live task header and the caller must own one reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task {
        Task { ptr }
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    fn header(&self) -> &Header {
        // SAFETY: holding a reference count keeps the header alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn id(&self) -> Id {
        self.header().join.id()
    }

    /// Cancel the task at runtime shutdown, consuming this (owned-list) reference.
    pub(crate) fn shutdown(self) {
        let ptr = self.into_raw();
        // SAFETY: we hand over the reference we owned.
        unsafe { (ptr.as_ref().vtable.shutdown)(ptr) }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference; nobody can reach the task any more.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

impl Notified {
    /// # Safety
    /// `ptr` must be a live task for which `NOTIFIED` was set with this reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified(Task { ptr })
    }

    /// Poll the task once (or cancel it, or skip it if it already finished).
    pub(crate) fn run(self) {
        let ptr = self.0.into_raw();
        // SAFETY: the `Notified`'s reference moves into the poll, which drops it.
        unsafe { (ptr.as_ref().vtable.poll)(ptr) }
    }

    pub(crate) fn into_task(self) -> Task {
        self.0
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({:?})", self.0.ptr)
    }
}
