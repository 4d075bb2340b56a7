//! The typed half of a task: its one allocation (`Cell`, from the global allocator or
//! the thread's pool, see `crate::memory`), and the poll, complete, cancel, join and
//! free paths that need the future's type.
//!
//! Each path acts only on what the state transition it won gives it ownership of:
//! `RUNNING` owns the future, `COMPLETE` without `JOIN_INTEREST` owns the output,
//! `JOIN_WAKER` decides who owns the join waker slot. Nothing here may block.

use std::alloc::Layout;
use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::header::{Header, Vtable};
use super::id::CurrentTaskGuard;
use super::join_slot::JoinSlot;
use super::meta::SpawnMeta;
use super::raw::{Notified, Task};
use super::state::*;
use super::waker::waker_ref;
use super::{Id, JoinError, Schedule};
use crate::memory::{alloc_cell, drop_cell, CellMemory};

type Panic = Box<dyn Any + Send + 'static>;

/// The single allocation of a task: header first, so that a `*Header` is a `*Cell`.
#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
}

/// What the task holds, told apart by the state word rather than a tag of its own:
/// the future before `COMPLETE`, then the output, a panic payload (`OUTPUT_PANIC`)
/// or nothing (`OUTPUT_CANCELLED`). The payload is boxed twice to keep it one word.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
    panic: ManuallyDrop<Box<Panic>>,
}

/// The bytes of a task's header, for `RuntimeInfo`.
pub(crate) const HEADER_BYTES: usize = std::mem::size_of::<Header>();

/// Allocate a task, spawned as `spawn` says (`None`: the runtime's own). It starts
/// with three references (owned list, first `Notified`, `JoinHandle`), returned in
/// that order.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    spawn: Option<SpawnMeta<'_>>,
) -> (Task, Notified, NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: a `Send` future and output may be polled, dropped and read anywhere.
    unsafe { new_local_task(future, scheduler, spawn) }
}

/// Allocate a task whose future or output need not be `Send` (`LocalSet` tasks).
///
/// # Safety
/// Unless `F: Send`, the scheduler must poll the task, and shut it down, only on the
/// thread that called this; and unless `F::Output: Send`, the `JoinHandle` made from
/// the third reference must stay on that thread (its `Send` needs `F::Output: Send`).
/// Wakers and references may travel: they never touch the future or the output.
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
    spawn: Option<SpawnMeta<'_>>,
) -> (Task, Notified, NonNull<Header>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let id = Id::next();
    if let Some(SpawnMeta {
        name: Some(name), ..
    }) = spawn
    {
        super::meta::name_task(id, name);
    }
    #[cfg(feature = "tracing")]
    {
        let span = super::trace::task_span(S::KIND, id, spawn, size_of::<F>());
        let tracing_id = span.id();
        let future = tracing::Instrument::instrument(future, span);
        // SAFETY: the caller's promise, which covers the instrumented future as it
        // covers `future` (the span is `Send` and `Sync`).
        unsafe { allocate(future, scheduler, id, spawn, tracing_id) }
    }
    #[cfg(not(feature = "tracing"))]
    // SAFETY: the caller's promise.
    unsafe {
        allocate(future, scheduler, id, spawn)
    }
}

/// `new_local_task` once the future is what the cell will hold.
///
/// # Safety
/// As `new_local_task`.
#[inline(always)]
unsafe fn allocate<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    spawn: Option<SpawnMeta<'_>>,
    #[cfg(feature = "tracing")] tracing_id: Option<tracing::Id>,
) -> (Task, Notified, NonNull<Header>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    // The vtable's `dealloc` is the one for the allocator that made the cell, so the
    // cell goes back to it from whichever thread drops the last reference.
    let memory = CellMemory::here();
    let mut vtable = match memory {
        CellMemory::System => vtable::<F, S, false>(),
        CellMemory::Pool => vtable::<F, S, true>(),
    };
    if let Some(spawn) = spawn {
        vtable = super::meta::located(vtable, spawn.location, spawn.name.is_some());
    }
    let ptr = alloc_cell::<Cell<F, S>>(memory);
    // SAFETY: `ptr` is fresh memory laid out for a `Cell<F, S>`.
    unsafe {
        ptr.as_ptr().write(Cell {
            header: Header {
                state: State::new(),
                vtable,
                join: JoinSlot::new(id),
                #[cfg(feature = "tracing")]
                tracing_id,
            },
            scheduler,
            stage: UnsafeCell::new(Stage {
                future: ManuallyDrop::new(future),
            }),
        })
    };
    let ptr = ptr.cast::<Header>();
    // SAFETY: the fresh task holds exactly these three references.
    unsafe { (Task::from_raw(ptr), Notified::from_raw(ptr), ptr) }
}

/// The vtable of a task of future `F` and scheduler `S`, whose cell came from the pool
/// if `POOLED`, else from the global allocator.
fn vtable<F, S, const POOLED: bool>() -> &'static Vtable
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S, POOLED>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
        short_address: short_address::<F, S, POOLED>,
        location: None,
        named: false,
    }
}

/// The vtable's `short_address`: only a pooled cell has one.
unsafe fn short_address<F: Future, S, const POOLED: bool>(ptr: NonNull<Header>) -> Option<u32> {
    if !POOLED {
        return None;
    }
    // SAFETY: the vtable of a pooled task: its cell came from the pool with the
    // layout of a `Cell<F, S>`, and is alive while the caller holds a reference.
    unsafe { crate::memory::pool::short_address(ptr.cast(), Layout::new::<Cell<F, S>>()) }
}

/// # Safety
/// `ptr` must be a live task of type `Cell<F, S>`.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: the header is the first field of a `repr(C)` cell (caller's promise on type).
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only reachable from a task of this type; we hold a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        ToRunning::Skip { last_ref } => {
            if last_ref {
                // SAFETY: that was the last reference.
                unsafe { free::<F, S>(ptr) }
            }
        }
        // SAFETY: RUNNING is ours, so is the future; we hold the `Notified` reference.
        ToRunning::Cancel => unsafe { cancel_and_complete::<F, S>(ptr, 1) },
        ToRunning::Poll => {
            // SAFETY: as above; the borrowed waker lives no longer than our reference.
            unsafe { poll_future::<F, S>(ptr) }
        }
    }
}

/// # Safety
/// The caller has set RUNNING and holds one reference.
///
/// Paths that may free the task take the pointer, never a `&Cell`: a reference
/// argument must outlive the call, and completion can free the cell before returning.
unsafe fn poll_future<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: caller's promise; this local reference is not used after a free.
    let cell = unsafe { cell::<F, S>(ptr) };
    let waker = waker_ref(ptr);
    let (result, woke_itself) = {
        let current = CurrentTaskGuard::enter(ptr);
        let mut cx = Context::from_waker(&waker);
        let result = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: RUNNING gives this thread the future; it never moves out of the cell.
            let future = unsafe { Pin::new_unchecked(&mut *(*cell.stage.get()).future) };
            super::coop::with_budget(|| future.poll(&mut cx))
        }));
        (result, current.leave())
    };
    match result {
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle(woke_itself) {
            ToIdle::Idle { last_ref } => {
                if last_ref {
                    // SAFETY: that was the last reference.
                    unsafe { free::<F, S>(ptr) }
                }
            }
            ToIdle::Notified => {
                // Once queued, the task may be run and freed by another thread before
                // `yield_now` returns, so `yield_now` must not borrow the hook inside
                // the task: it gets a bitwise copy on our stack instead, never dropped.
                // The copy stays valid after a free because the polling thread holds
                // its own strong reference to the scheduler (see `Schedule`).
                // SAFETY: we still hold the poll's reference, so the hook is readable.
                let scheduler = ManuallyDrop::new(unsafe { std::ptr::read(&cell.scheduler) });
                // SAFETY: the poll's reference becomes the new `Notified`'s.
                scheduler.yield_now(unsafe { Notified::from_raw(ptr) });
            }
            // SAFETY: RUNNING is still ours.
            ToIdle::Cancel => unsafe { cancel_and_complete::<F, S>(ptr, 1) },
        },
        Ok(Poll::Ready(output)) => {
            // SAFETY: RUNNING is ours, so is the future.
            let kind = match unsafe { drop_future(cell) } {
                Ok(()) => {
                    // SAFETY: the future is gone; the stage is ours to fill.
                    unsafe { (*cell.stage.get()).output = ManuallyDrop::new(output) };
                    0
                }
                Err(panic) => {
                    drop_quietly(output);
                    // SAFETY: as above.
                    unsafe { store_panic(cell, panic) }
                }
            };
            // SAFETY: RUNNING is ours; we hold one reference.
            unsafe { complete::<F, S>(ptr, kind, 1) }
        }
        Err(panic) => {
            // A panic during poll leaves the future in an unknown but droppable state.
            // SAFETY: RUNNING is ours, so is the future.
            let panic = match unsafe { drop_future(cell) } {
                Ok(()) => panic,
                Err(second) => {
                    drop_quietly(panic);
                    second
                }
            };
            // SAFETY: the future is gone; the stage is ours to fill; one reference held.
            unsafe {
                let kind = store_panic(cell, panic);
                complete::<F, S>(ptr, kind, 1)
            }
        }
    }
}

/// # Safety
/// RUNNING is the caller's; the future has not been dropped yet.
unsafe fn drop_future<F: Future, S>(cell: &Cell<F, S>) -> Result<(), Panic> {
    // As in tokio, a destructor may ask `task::id()`: it gets this task's.
    let _current = CurrentTaskGuard::enter(NonNull::from(&cell.header));
    // SAFETY: caller's promise; the future is dropped exactly once, here.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut (*cell.stage.get()).future)
    }))
}

/// # Safety
/// The stage is empty and the caller owns it.
unsafe fn store_panic<F: Future, S>(cell: &Cell<F, S>, panic: Panic) -> usize {
    // SAFETY: caller's promise.
    unsafe { (*cell.stage.get()).panic = ManuallyDrop::new(Box::new(panic)) };
    OUTPUT_PANIC
}

/// Drops a value whose destructor might panic, without unwinding into the runtime.
fn drop_quietly<T>(value: T) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
}

/// # Safety
/// RUNNING is the caller's; the future is still in the stage; `refs` references held.
unsafe fn cancel_and_complete<F: Future, S: Schedule>(ptr: NonNull<Header>, refs: usize) {
    // SAFETY: caller's promise.
    unsafe {
        let cell = cell::<F, S>(ptr);
        let kind = match drop_future(cell) {
            Ok(()) => OUTPUT_CANCELLED,
            Err(panic) => store_panic(cell, panic),
        };
        complete::<F, S>(ptr, kind, refs)
    }
}

/// Publish completion, hand the output to whoever owns it, and leave the owned list.
///
/// # Safety
/// RUNNING is the caller's; the stage holds what `kind` says; `refs` references held.
unsafe fn complete<F: Future, S: Schedule>(ptr: NonNull<Header>, kind: usize, refs: usize) {
    // SAFETY: caller's promise; `cell` is not used after the final `dealloc`.
    let cell = unsafe { cell::<F, S>(ptr) };
    let prev = cell.header.state.transition_to_complete(kind);
    if !prev.has(JOIN_INTEREST) {
        // Nobody will read the output: it is ours to drop.
        // SAFETY: COMPLETE without JOIN_INTEREST gives us the stage.
        unsafe { drop_output::<F, S>(cell, kind) };
    } else if prev.has(JOIN_WAKER) {
        // SAFETY: JOIN_WAKER set means the JoinHandle will not write the slot now.
        if let Some(waker) = unsafe { cell.header.join.waker() } {
            let _ = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref()));
        }
        let now = cell.header.state.unset_join_waker_after_complete();
        if !now.has(JOIN_INTEREST) {
            // The JoinHandle left while we held the slot: its waker is ours to drop.
            // SAFETY: JOIN_WAKER was ours and no JoinHandle remains.
            drop_quietly(unsafe { cell.header.join.take_waker() });
        }
    }
    let released = cell.scheduler.release(ptr);
    if cell.header.state.ref_dec_by(refs + usize::from(released)) {
        // SAFETY: those were the last references.
        unsafe { free::<F, S>(ptr) }
    }
}

/// # Safety
/// COMPLETE is set, the stage holds what `kind` says and the caller owns it.
unsafe fn drop_output<F: Future, S>(cell: &Cell<F, S>, kind: usize) {
    // The output's destructor sees this task as current, wherever it runs (tokio's
    // rule too).
    let _current = CurrentTaskGuard::enter(NonNull::from(&cell.header));
    // SAFETY: caller's promise; each variant is dropped only when `kind` names it.
    unsafe {
        let stage = &mut *cell.stage.get();
        if kind & OUTPUT_PANIC != 0 {
            drop_quietly(ManuallyDrop::take(&mut stage.panic));
        } else if kind & OUTPUT_CANCELLED == 0 {
            drop_quietly(ManuallyDrop::take(&mut stage.output));
        }
    }
}

fn output_kind(s: Snapshot) -> usize {
    s.0 & (OUTPUT_PANIC | OUTPUT_CANCELLED)
}

unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: a task of this type; the caller passes a `Notified` reference.
    unsafe {
        cell::<F, S>(ptr)
            .scheduler
            .schedule(Notified::from_raw(ptr))
    }
}

/// Frees a task whose last reference the caller held, through its vtable, which knows
/// the allocator that made the cell.
///
/// # Safety
/// `ptr` is a task of type `Cell<F, S>` and the caller held its last reference.
unsafe fn free<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the caller's promise; the vtable was picked when the cell was made.
    unsafe { (cell::<F, S>(ptr).header.vtable.dealloc)(ptr) }
}

/// Frees the cell; the vtable of a pooled cell calls it with `POOLED`.
unsafe fn dealloc<F: Future, S, const POOLED: bool>(ptr: NonNull<Header>) {
    let ptr = ptr.cast::<Cell<F, S>>();
    // SAFETY: the last reference is gone, so we own the cell made by `new_task`.
    let cell = unsafe { &mut *ptr.as_ptr() };
    if !cell.header.state.load().has(COMPLETE) {
        // Only reachable if a task lost every reference while unfinished; free its
        // future rather than leak it.
        // SAFETY: not COMPLETE, so the stage still holds the future, and we own it.
        drop_quietly(unsafe { ManuallyDrop::take(&mut cell.stage.get_mut().future) });
    }
    if cell.header.vtable.named {
        super::meta::forget_name(cell.header.join.id());
    }
    let memory = if POOLED {
        CellMemory::Pool
    } else {
        CellMemory::System
    };
    // SAFETY: we own the cell; its stage is a union of `ManuallyDrop`s (what it held
    // was taken above or by the paths that own it), so dropping the cell in place
    // drops the header and the scheduler hook only. Then the memory goes back to the
    // allocator that `new_local_task` took it from, which this vtable was picked for.
    unsafe { drop_cell(ptr, memory) }
}

unsafe fn try_read_output<F: Future, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: called by the JoinHandle of a task of this type, which holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: `dst` is the JoinHandle's `Poll<Result<F::Output, JoinError>>`.
    let dst = unsafe { &mut *dst.cast::<Poll<Result<F::Output, JoinError>>>() };
    let state = &cell.header.state;
    let mut snapshot = state.load();
    if !snapshot.has(COMPLETE) {
        let slot = &cell.header.join;
        if snapshot.has(JOIN_WAKER) {
            // SAFETY: with JOIN_WAKER set the completer only reads the slot, as we do.
            if unsafe { slot.waker() }.is_some_and(|w| w.will_wake(waker)) {
                return;
            }
            if let Err(s) = state.unset_join_waker() {
                snapshot = s;
            }
        }
        if !snapshot.has(COMPLETE) {
            // SAFETY: JOIN_WAKER is unset, so the slot is the JoinHandle's.
            unsafe { slot.set_waker(waker.clone()) };
            match state.set_join_waker() {
                Ok(()) => return,
                Err(s) => snapshot = s,
            }
        }
    }
    // Only a second poll after `Ready` gets here; reading again would move the
    // output out twice.
    assert!(
        !snapshot.has(OUTPUT_TAKEN),
        "`JoinHandle` polled after it returned `Ready`"
    );
    let id = cell.header.join.id();
    // SAFETY: COMPLETE with JOIN_INTEREST: the stage belongs to the JoinHandle, and
    // OUTPUT_TAKEN is set right after so nobody drops it twice.
    let result = unsafe {
        let stage = &mut *cell.stage.get();
        match output_kind(snapshot) {
            0 => Ok(ManuallyDrop::take(&mut stage.output)),
            OUTPUT_PANIC => Err(JoinError::panic(id, *ManuallyDrop::take(&mut stage.panic))),
            _ => Err(JoinError::cancelled(id)),
        }
    };
    state.mark_output_taken();
    *dst = Poll::Ready(result);
}

unsafe fn drop_join_handle<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: called by the JoinHandle of a task of this type with its reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    let (drop_output_now, drop_waker) = cell.header.state.drop_join_interest();
    if drop_output_now {
        let kind = output_kind(cell.header.state.load());
        // SAFETY: COMPLETE and not taken: the JoinHandle owned the output.
        unsafe { drop_output::<F, S>(cell, kind) };
    }
    if drop_waker {
        // SAFETY: JOIN_WAKER was unset (by us or after completion): the slot is ours.
        drop(unsafe { cell.header.join.take_waker() });
    }
    // SAFETY: the JoinHandle's reference.
    drop(unsafe { Task::from_raw(ptr) });
}

unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: a task of this type; the caller hands us one reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        // SAFETY: we now own RUNNING and the future.
        unsafe { cancel_and_complete::<F, S>(ptr, 1) }
    } else {
        // Running elsewhere (it will see CANCELLED) or already complete.
        // SAFETY: our reference.
        drop(unsafe { Task::from_raw(ptr) });
    }
}
