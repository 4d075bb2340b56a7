//! The part of a task that every task shares, whatever its future: the state word
//! (which also holds the owned-list slot), the vtable and the join slot (the task's
//! id, and the join waker once somebody waits).
//!
//! Queues, wakers and handles only ever see a `NonNull<Header>`; the vtable brings back
//! the concrete future type. Nothing here may grow without a reason: this struct is
//! paid for by every task alive (see `Runtime::INFO.task_header_bytes`).

use std::panic::Location;
use std::ptr::NonNull;
use std::task::Waker;

use super::join_slot::JoinSlot;
use super::state::State;

#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// The task's id, and the waker of whoever awaits the `JoinHandle`, in one word;
    /// which side may touch the waker is decided by `JOIN_WAKER`.
    pub(crate) join: JoinSlot,
    /// The id of the task's `runtime.spawn` span, which the waker events name
    /// (`task.id`), as tokio-console expects; only under the `tracing` feature.
    #[cfg(feature = "tracing")]
    pub(crate) tracing_id: Option<tracing::Id>,
}

/// The operations that need the concrete future and scheduler types.
pub(crate) struct Vtable {
    /// Run the task; consumes the `Notified`'s reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hand a `Notified` (its reference already counted) to the task's scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Free the memory; called when the last reference goes.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: `dst` is a `*mut Poll<Result<T, JoinError>>`.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The `JoinHandle` is dropped; consumes its reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancel the task; consumes the owned-list reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// The cell's 32-bit address if it is a pooled block (`memory::pool::short_address`),
    /// which the owned-task list stores in half the room of a pointer.
    pub(crate) short_address: unsafe fn(NonNull<Header>) -> Option<u32>,
    /// Where the task was spawned: `None` in the plain vtable of a future type, set
    /// in the copies `meta.rs` makes per call site, so the location costs the task
    /// no byte of its own.
    pub(crate) location: Option<&'static Location<'static>>,
    /// The task has a name in `meta.rs`'s table, to be removed when it is freed.
    pub(crate) named: bool,
}

// SAFETY: a header is only reached through task references, and every field is either
// atomic or guarded by a protocol documented beside it (JOIN_WAKER, join_slot.rs).
unsafe impl Send for Header {}
// SAFETY: as above.
unsafe impl Sync for Header {}
