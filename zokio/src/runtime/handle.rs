//! `Handle`: a cloneable reference to a running runtime, for spawning from anywhere
//! and for finding "the current runtime" from inside one.
//!
//! A handle keeps the scheduler's shared state alive but does not keep the runtime
//! running: once the `Runtime` is dropped, spawns through a handle are cancelled at
//! once. Nothing here may block except `block_on`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use super::context::{self, SetCurrentGuard};
use crate::scheduler;
use crate::task::JoinHandle;

/// A handle to a runtime.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
    pub(crate) drivers: std::sync::Arc<crate::driver::Drivers>,
    id: super::Id,
    name: Option<std::sync::Arc<str>>,
    pub(crate) memory: crate::memory::MemoryPlan,
}

/// Which scheduler a runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// All tasks on the thread that calls `block_on`.
    CurrentThread,
    /// Work stealing across worker threads.
    MultiThread,
    /// One worker per core; tasks never move.
    ThreadPerCore,
}

/// Why there is no current runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryCurrentError {
    /// This thread is not inside a runtime.
    NoContext,
    /// The thread is exiting and its thread-locals are gone.
    ThreadLocalDestroyed,
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryCurrentError::NoContext => f.write_str(
                "called outside of a Zokio runtime: there is no runtime on this thread. Call it \
                 from inside a task or `Runtime::block_on`, enter one with `Runtime::enter()`, \
                 or keep a `zokio::runtime::Handle` and call its methods",
            ),
            TryCurrentError::ThreadLocalDestroyed => f.write_str(
                "called while the thread is exiting: the Zokio runtime context was already destroyed",
            ),
        }
    }
}

impl std::error::Error for TryCurrentError {}

/// Keeps a runtime current on this thread until dropped; see [`Handle::enter`].
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _current: SetCurrentGuard,
    /// A `LocalRuntime`'s set, current too.
    pub(super) local: Option<crate::task::LocalEnterGuard>,
    // Not Send: it restores this thread's context.
    _not_send: PhantomData<(&'a Handle, *const ())>,
}

impl Handle {
    /// The handle of a runtime being built, with a fresh id.
    pub(crate) fn new(
        inner: scheduler::Handle,
        drivers: std::sync::Arc<crate::driver::Drivers>,
        name: Option<&str>,
        memory: crate::memory::MemoryPlan,
    ) -> Handle {
        Handle {
            inner,
            drivers,
            id: super::Id::next(),
            name: name.map(Into::into),
            memory,
        }
    }

    /// The name given with [`Builder::name`](super::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// This runtime's id, as tokio's `Handle::id`: the same from every handle of the
    /// runtime, and never another runtime's in this process.
    pub fn id(&self) -> super::Id {
        self.id
    }

    /// The memory strategy the runtime's threads use, as resolved when it was built:
    /// never [`MemoryStrategy::Adaptive`](crate::memory::MemoryStrategy::Adaptive),
    /// which becomes the strategy it chose for this machine.
    pub fn memory_strategy(&self) -> crate::memory::MemoryStrategy {
        self.memory.strategy
    }

    /// The I/O driver the runtime's workers use.
    pub fn driver_kind(&self) -> crate::runtime::DriverKind {
        self.drivers.kind
    }

    /// What the runtime's I/O drivers did so far, summed over its workers: system
    /// calls into the kernel's I/O interface, entries submitted, completions reaped
    /// and wake-up writes. Zokio's own view (tokio has no counterpart); subtract two
    /// snapshots to see what a stretch of work cost.
    pub fn io_counters(&self) -> crate::runtime::IoCounters {
        self.drivers.io_counters()
    }

    /// A view of the runtime's metrics (task counts, queue depths, per-worker
    /// counts), with tokio's names and meanings; see [`RuntimeMetrics`]. Cheap: it
    /// clones this handle.
    ///
    /// [`RuntimeMetrics`]: super::RuntimeMetrics
    pub fn metrics(&self) -> super::RuntimeMetrics {
        super::RuntimeMetrics::new(self.clone())
    }

    /// The runtime this thread is in.
    ///
    /// # Panics
    /// Outside a runtime; use [`Handle::try_current`] to ask without panicking.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(err) => panic!("`zokio::runtime::Handle::current()` {err}"),
        }
    }

    /// The runtime this thread is in, or why there is none.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(Handle::clone)
    }

    /// Spawn a future on this runtime.
    #[track_caller]
    #[inline]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spawn = crate::task::meta::SpawnMeta::here();
        self.inner.spawn(future, Some(spawn))
    }

    /// Run a blocking closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let spawn = crate::task::meta::SpawnMeta::here();
        self.inner.blocking().spawn_as(f, spawn)
    }

    /// The runtime's live tasks, with their ids, names and spawn locations, in no
    /// particular order: every task spawned on it (through `zokio::spawn`,
    /// [`Handle::spawn`], a [`JoinSet`](crate::task::JoinSet), a
    /// [`task::Builder`](crate::task::Builder)) that has not finished yet, and every
    /// blocking closure queued or running. The tasks of a
    /// [`LocalSet`](crate::task::LocalSet) are the set's, not the runtime's (see
    /// [`LocalSet::alive_tasks`](crate::task::LocalSet::alive_tasks)).
    ///
    /// A snapshot, taken without stopping the runtime: tasks may finish or start
    /// while it is taken. It takes each lock of the runtime's task lists in turn, so
    /// it is meant for diagnostics (a debug endpoint, a test), not for a hot loop.
    ///
    /// Unnamed tasks carry their spawn location only on a runtime built with
    /// [`enable_spawn_locations`](crate::runtime::Builder::enable_spawn_locations).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let rt = zokio::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .enable_spawn_locations()
    ///     .build()?;
    /// let handle = rt.handle().clone();
    /// let task = handle.spawn(std::future::pending::<()>()); let line = line!();
    /// let info = handle.alive_tasks().into_iter().find(|t| t.id() == task.id()).unwrap();
    /// assert_eq!(info.location().unwrap().line(), line);
    /// assert_eq!(info.name(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn alive_tasks(&self) -> Vec<crate::task::TaskInfo> {
        let mut tasks = Vec::new();
        self.inner.alive_tasks(&mut tasks);
        tasks
    }

    /// Block this thread on a future, with this runtime current.
    ///
    /// # Panics
    /// On a thread that already drives tasks (a worker, or inside `block_on`).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _driving = context::enter_driving();
        let _current = context::set_current(self);
        let _memory = crate::memory::enter(self.memory);
        match &self.inner {
            scheduler::Handle::CurrentThread(handle) => handle.block_on(future),
            _ => super::park_thread::block_on(future),
        }
    }

    /// Make this runtime current on this thread until the guard is dropped, so that
    /// `zokio::spawn` works outside async code.
    ///
    /// # Examples
    ///
    /// Library code that spawns from a plain function, called outside any task:
    ///
    /// ```
    /// fn start_background_job() -> zokio::task::JoinHandle<u32> {
    ///     // Finds the runtime through the thread's current handle.
    ///     zokio::spawn(async { 42 })
    /// }
    ///
    /// let rt = zokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// let job = {
    ///     let _guard = rt.handle().enter();
    ///     start_background_job()
    /// };
    /// assert_eq!(rt.block_on(job).unwrap(), 42);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _current: context::set_current(self),
            local: None,
            _not_send: PhantomData,
        }
    }

    /// Which scheduler this runtime uses.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match &self.inner {
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            scheduler::Handle::ThreadPerCore(_) => RuntimeFlavor::ThreadPerCore,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("flavor", &self.runtime_flavor())
            .finish()
    }
}
