//! `LocalSet` and `spawn_local`: tasks whose futures are not `Send`, run on the thread
//! that owns the set, interleaved with whatever the set is asked to drive.
//!
//! As in tokio, a set runs its tasks only while it is polled: inside `run_until`
//! (or `block_on`), or awaited as a future of its own; a `LocalRuntime` keeps one
//! running for the whole of its `block_on`. Dropping the set drops every task it
//! still owns, on its own thread. The queues live in `shared.rs`; nothing here may
//! hand a task's future to another thread.

mod shared;

use std::cell::Cell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::{pin, Pin};
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll};

use shared::{Shared, MAX_TASKS_PER_TICK};

use super::JoinHandle;

thread_local! {
    /// The set that `spawn_local` spawns onto (`LocalSet::enter`, `run_until`, ...).
    static CURRENT: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

/// A set of tasks that all run on the current thread, so that their futures need not
/// be `Send`.
///
/// Spawn onto it with [`LocalSet::spawn_local`], or with [`spawn_local`] from code the
/// set is running. Its tasks make progress only while the set is polled: through
/// [`LocalSet::run_until`] or [`LocalSet::block_on`], or by awaiting the set itself,
/// which finishes once every task it holds has finished.
///
/// ```
/// use std::rc::Rc;
///
/// let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// let local = zokio::task::LocalSet::new();
/// let shared = Rc::new(41); // not Send
/// let answer = local.block_on(&rt, async move {
///     let shared = shared.clone();
///     zokio::task::spawn_local(async move { *shared + 1 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    /// Neither `Send` nor `Sync`: the tasks' futures live on this thread.
    _not_send: PhantomData<*const ()>,
}

/// Makes a `LocalSet` the target of [`spawn_local`] until dropped; see
/// [`LocalSet::enter`].
#[must_use = "the set is current only while the guard lives"]
pub struct LocalEnterGuard {
    previous: *const Shared,
    /// Keeps the set's shared state alive while `CURRENT` points at it.
    _shared: Arc<Shared>,
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.set(self.previous));
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

/// Clears the set's "running" mark, and the current set, when a poll of it ends.
struct Running<'a> {
    shared: &'a Shared,
    was_running: bool,
    _enter: LocalEnterGuard,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.shared.set_running(self.was_running);
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl LocalSet {
    /// An empty set, owned by the calling thread.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Shared::new(),
            _not_send: PhantomData,
        }
    }

    /// Make this set the one [`spawn_local`] spawns onto, until the guard is dropped.
    /// Its tasks still run only while the set is polled.
    pub fn enter(&self) -> LocalEnterGuard {
        enter(&self.shared)
    }

    /// Spawn a `!Send` future onto this set. It runs once the set is polled, and may
    /// be spawned before that.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_onto(&self.shared, future, None)
    }

    /// `spawn_local` with a name (`task::Builder::spawn_local_on`).
    #[track_caller]
    pub(crate) fn spawn_named<F>(&self, future: F, name: Option<&str>) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_onto(&self.shared, future, name)
    }

    /// The set's live tasks, with their ids, names and spawn locations, as
    /// [`Handle::alive_tasks`](crate::runtime::Handle::alive_tasks) gives a runtime's.
    pub fn alive_tasks(&self) -> Vec<crate::task::TaskInfo> {
        let mut tasks = Vec::new();
        self.shared.owned.alive(&mut tasks);
        tasks
    }

    /// Run `future` to completion on `rt`, running this set's tasks meanwhile.
    ///
    /// # Panics
    /// Where `rt.block_on` panics: inside a task, or inside another `block_on`.
    #[track_caller]
    pub fn block_on<F, C>(&self, rt: &crate::runtime::Runtime<C>, future: F) -> F::Output
    where
        F: Future,
        C: crate::config::Config,
    {
        rt.block_on(self.run_until(future))
    }

    /// Run `future` to completion, running this set's tasks while it waits. Must be
    /// awaited inside a runtime (or driven by `block_on`) for I/O and timers to work.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| {
            let _running = self.start_running(cx);
            if let Poll::Ready(output) = crate::task::coop::with_budget(|| future.as_mut().poll(cx))
            {
                return Poll::Ready(output);
            }
            if self.tick() {
                // More tasks are ready: come back after the others on this thread.
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }

    fn start_running(&self, cx: &mut Context<'_>) -> Running<'_> {
        let enter = self.enter();
        self.shared.waker.register(cx.waker());
        Running {
            shared: &self.shared,
            was_running: self.shared.set_running(true),
            _enter: enter,
        }
    }

    /// Drop every task the set owns, and refuse new ones (they are cancelled at once).
    /// Idempotent; the set's `Drop` calls it too.
    pub(crate) fn close(&self) {
        // Current while the tasks are dropped, as in tokio: a destructor that spawns
        // onto the set gets a task cancelled at once rather than a panic.
        let _enter = self.enter();
        let queued = self.shared.close();
        for task in self.shared.owned.close_and_take() {
            task.shutdown();
        }
        drop(queued);
    }

    /// Run up to `MAX_TASKS_PER_TICK` tasks; returns whether more are ready.
    fn tick(&self) -> bool {
        for _ in 0..MAX_TASKS_PER_TICK {
            match self.shared.next_task() {
                Some(task) => task.run(),
                None => return false,
            }
        }
        self.shared.has_queued()
    }
}

/// Finishes once every task spawned onto the set has finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _running = self.start_running(cx);
        if self.tick() {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if self.shared.owned.len() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.owned.len())
            .finish()
    }
}

fn enter(shared: &Arc<Shared>) -> LocalEnterGuard {
    let previous = CURRENT.with(|current| current.replace(Arc::as_ptr(shared)));
    LocalEnterGuard {
        previous,
        _shared: shared.clone(),
    }
}

#[track_caller]
pub(crate) fn spawn_onto<F>(
    shared: &Arc<Shared>,
    future: F,
    name: Option<&str>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let spawn = crate::task::meta::SpawnMeta::named(name);
    // SAFETY: the set polls and shuts down its tasks only on its own thread (it is
    // neither `Send` nor `Sync`, and `Shared` keeps its queue to that thread), which
    // is this one: `shared` comes from a `&LocalSet` or from `CURRENT`, both of this
    // thread. The `JoinHandle` is `Send` only when the output is.
    let parts = unsafe { super::harness::new_local_task(future, shared.clone(), Some(spawn)) };
    let (listed, notified, join) = parts;
    match shared.owned.bind(listed) {
        Ok(()) => crate::task::Schedule::schedule(shared, notified),
        Err(listed) => {
            drop(notified);
            listed.shutdown();
        }
    }
    // SAFETY: `join` is the JoinHandle reference of a task whose output is F::Output.
    unsafe { JoinHandle::from_raw(join) }
}

/// Spawn a `!Send` future onto the current [`LocalSet`] (or `LocalRuntime`).
///
/// # Panics
/// Outside a `LocalSet` or `LocalRuntime`, with tokio's message.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match current() {
        Some(shared) => spawn_onto(&shared, future, None),
        None => panic!(
            "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
        ),
    }
}

/// The current set's shared state, for `task::Builder::spawn_local`.
pub(crate) fn current_set() -> Option<Arc<Shared>> {
    current()
}

/// The current set's shared state, if a set is current on this thread.
fn current() -> Option<Arc<Shared>> {
    let ptr = CURRENT.try_with(Cell::get).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `CURRENT` is set only by a `LocalEnterGuard`, which holds a strong
    // reference to this `Shared` until it restores the previous value, so the pointer
    // came from a live `Arc` and the count we add is to a live allocation.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// The unsafe parts (a task whose future is not `Send`, the owner-only queue, the
    /// current set's pointer) under Miri: tasks spawned, woken from another thread,
    /// joined, and dropped with the set while still pending.
    #[test]
    fn miri_local_tasks_run_join_and_drop_with_the_set() {
        let local = LocalSet::new();
        let ran = Rc::new(Cell::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let sum = futures::executor::block_on(local.run_until({
            let ran = ran.clone();
            async move {
                let handles: Vec<_> = (0..4u32)
                    .map(|i| {
                        let ran = ran.clone();
                        spawn_local(async move {
                            ran.set(ran.get() + 1);
                            i
                        })
                    })
                    .collect();
                // Woken from another thread, through the remote queue.
                let remote = spawn_local(async move { rx.await.unwrap() });
                let sender = std::thread::spawn(move || tx.send(10).unwrap());
                let mut sum = remote.await.unwrap();
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sender.join().unwrap();
                sum
            }
        }));
        assert_eq!(sum, 16);
        assert_eq!(ran.get(), 4);
        // Pending when the set goes: dropped with it, on this thread.
        let dropped = Rc::new(Cell::new(false));
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let flag = Flag(dropped.clone());
        let pending = local.spawn_local(async move {
            let _flag = flag;
            std::future::pending::<()>().await
        });
        drop(local);
        assert!(dropped.get());
        assert!(futures::executor::block_on(pending)
            .unwrap_err()
            .is_cancelled());
    }
}
