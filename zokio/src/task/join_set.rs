//! `JoinSet`: a collection of spawned tasks awaited in completion order.
//!
//! Built on `FuturesUnordered` of `JoinHandle`s, which already wakes only the handles
//! that are ready; dropping the set aborts what is left, as in tokio. Nothing here
//! touches task internals.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, Stream};

use super::{AbortHandle, Id, JoinError, JoinHandle};
use crate::runtime::Handle;

/// A set of tasks spawned on a runtime, joined in the order they finish.
///
/// Dropping the set aborts the tasks still in it, so a set scopes its tasks to its
/// owner.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zokio::task::JoinSet;
///
/// // A paused clock, so that the timers end in their order however loaded the machine.
/// let rt = zokio::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// let order = rt.block_on(async {
///     let mut set = JoinSet::new();
///     for delay in [30u64, 10, 20] {
///         set.spawn(async move {
///             zokio::time::sleep(Duration::from_millis(delay)).await;
///             delay
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(done) = set.join_next().await {
///         order.push(done.unwrap());
///     }
///     order
/// });
/// assert_eq!(order, [10, 20, 30]);
/// ```
pub struct JoinSet<T> {
    tasks: FuturesUnordered<WithId<T>>,
}

/// A member's handle, finishing with its task's id beside the output.
struct WithId<T>(JoinHandle<T>);

impl<T> Future for WithId<T> {
    type Output = (Id, Result<T, JoinError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.0.id();
        Pin::new(&mut self.0).poll(cx).map(|result| (id, result))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// How many tasks are in the set (finished ones count until joined).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Ask every task in the set to stop; they stay in the set until joined.
    pub fn abort_all(&mut self) {
        for handle in self.tasks.iter() {
            handle.0.abort();
        }
    }

    /// Forget every task without aborting it; they keep running on their own.
    pub fn detach_all(&mut self) {
        self.tasks.clear();
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawn a task on the current runtime and add it to the set.
    ///
    /// # Panics
    /// Outside a Zokio runtime, as [`crate::spawn`].
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(task))
    }

    /// Spawn a task on the given runtime and add it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, task: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(task))
    }

    /// Run a blocking closure on the current runtime's blocking pool, in the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(crate::task::spawn_blocking(f))
    }

    /// Run a blocking closure on `handle`'s blocking pool, in the set.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(handle.spawn_blocking(f))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawn a `!Send` task on the current `LocalSet` and add it to the set.
    ///
    /// # Panics
    /// Outside a `LocalSet` or `LocalRuntime`, as [`crate::task::spawn_local`].
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(crate::task::spawn_local(task))
    }

    /// Spawn a `!Send` task on `local` and add it to the set.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, task: F, local: &crate::task::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local.spawn_local(task))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.tasks.push(WithId(handle));
        abort
    }

    /// Wait for the next task to finish; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Wait for the next task to finish, with its id; `None` when the set is empty.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Poll for the next finished task.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// Poll for the next finished task, with its id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        Pin::new(&mut self.tasks)
            .poll_next(cx)
            .map(|next| next.map(|(id, result)| result.map(|output| (id, output))))
    }

    /// The next finished task, if one has finished already; never waits.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, output)| output))
    }

    /// The next finished task with its id, if one has finished already; never waits.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let waker = futures_util::task::noop_waker();
        // Never waits, so it spends no budget: a task out of budget still sees what
        // has finished (as tokio's).
        let next = crate::task::coop::without_budget(|| {
            self.poll_join_next_with_id(&mut Context::from_waker(&waker))
        });
        match next {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    /// Abort every task and wait until all have stopped.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Wait for every task and return their outputs in completion order.
    ///
    /// # Panics
    /// If a task panicked (its panic is resumed here) or was cancelled, as tokio does.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("{err}"),
            }
        }
        outputs
    }
}

/// Spawn every future on the current runtime, into a new set (as tokio's).
///
/// # Panics
/// Outside a Zokio runtime, as [`crate::spawn`].
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawn every future on the current runtime, into this set (as tokio's).
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for task in iter {
            self.spawn(task);
        }
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
