//! The `Waker` of a task: a raw waker whose data pointer is the task header and which
//! owns one reference. Waking goes through the state word so a task is queued at most
//! once. Nothing here may allocate (the `tracing` feature's events aside, which
//! allocate only if the subscriber does).

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::header::Header;
use super::raw::Task;
use super::state::Transition;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker borrowing the caller's reference, valid while that reference is held.
pub(crate) fn waker_ref(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable functions below uphold the RawWaker contract; ManuallyDrop
    // keeps the borrowed reference from being released.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) })
}

fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: every waker made from VTABLE holds (or borrows) a reference to the task.
    unsafe { &*(data as *const Header) }
}

fn ptr_of(data: *const ()) -> NonNull<Header> {
    // SAFETY: wakers are only built from a non-null header pointer.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    #[cfg(feature = "tracing")]
    super::trace::waker_op(ptr_of(data), "waker.clone");
    header(data).state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    #[cfg(feature = "tracing")]
    super::trace::waker_op(ptr_of(data), "waker.wake");
    let header = header(data);
    match header.state.transition_to_notified_by_val() {
        Transition::Done => {}
        Transition::Submit => {
            // SAFETY: the transition took a new reference for the `Notified`; ours keeps
            // the task (and the scheduler hook inside it) alive through the call.
            unsafe { (header.vtable.schedule)(ptr_of(data)) };
            // SAFETY: the waker's own reference, released now that scheduling is done.
            drop(unsafe { Task::from_raw(ptr_of(data)) });
        }
        // SAFETY: that was the last reference.
        Transition::Dealloc => unsafe { (header.vtable.dealloc)(ptr_of(data)) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    #[cfg(feature = "tracing")]
    super::trace::waker_op(ptr_of(data), "waker.wake_by_ref");
    if super::id::wake_current_by_ref(ptr_of(data)) {
        return;
    }
    let header = header(data);
    if header.state.transition_to_notified_by_ref() == Transition::Submit {
        // SAFETY: the transition took a new reference for the `Notified`.
        unsafe { (header.vtable.schedule)(ptr_of(data)) }
    }
}

unsafe fn drop_waker(data: *const ()) {
    #[cfg(feature = "tracing")]
    super::trace::waker_op(ptr_of(data), "waker.drop");
    // SAFETY: the waker owned one reference.
    drop(unsafe { Task::from_raw(ptr_of(data)) });
}
