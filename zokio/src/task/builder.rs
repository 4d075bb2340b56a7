//! `task::Builder`: spawning a task with a name, with tokio's API.
//!
//! The name is what `Handle::alive_tasks` reports (and, under the `tracing` feature,
//! the `task.name` field tokio-console shows). Every method records its caller as the
//! task's spawn location. This file only forwards to the spawn paths; it must never
//! allocate a task itself.

use std::future::Future;
use std::io;

use super::meta::SpawnMeta;
use super::JoinHandle;
use crate::runtime::Handle;

/// Spawns tasks with a name, as tokio's `task::Builder`.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let rt = zokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
/// rt.block_on(async {
///     let handle = zokio::task::Builder::new()
///         .name("answer")
///         .spawn(async { 42 })?;
///     assert_eq!(handle.await.unwrap(), 42);
///     Ok(())
/// })
/// # }
/// ```
#[derive(Default, Debug, Clone, Copy)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name set.
    pub fn new() -> Self {
        Builder::default()
    }

    /// The name the task will carry; the string is copied when the task is spawned.
    pub fn name(&self, name: &'a str) -> Self {
        Builder { name: Some(name) }
    }

    /// Spawns `future` on the current runtime, as [`crate::spawn`] does.
    ///
    /// # Panics
    /// Outside a Zokio runtime, as [`crate::spawn`].
    #[track_caller]
    pub fn spawn<Fut>(self, future: Fut) -> io::Result<JoinHandle<Fut::Output>>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let spawn = SpawnMeta::named(self.name);
        let spawned =
            crate::runtime::context::with_current(|handle| handle.inner.spawn(future, Some(spawn)));
        match spawned {
            Ok(join) => Ok(join),
            Err(err) => panic!("`zokio::task::Builder::spawn` {err}"),
        }
    }

    /// Spawns `future` on the runtime of `handle`, as [`Handle::spawn`] does.
    #[track_caller]
    pub fn spawn_on<Fut>(self, future: Fut, handle: &Handle) -> io::Result<JoinHandle<Fut::Output>>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let spawn = SpawnMeta::named(self.name);
        Ok(handle.inner.spawn(future, Some(spawn)))
    }

    /// Spawns a `!Send` future on the current [`LocalSet`](super::LocalSet) (or
    /// `LocalRuntime`), as [`spawn_local`](super::spawn_local) does.
    ///
    /// # Panics
    /// Outside a `LocalSet` or `LocalRuntime`, as [`spawn_local`](super::spawn_local).
    #[track_caller]
    pub fn spawn_local<Fut>(self, future: Fut) -> io::Result<JoinHandle<Fut::Output>>
    where
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        match super::local::current_set() {
            Some(shared) => Ok(super::local::spawn_onto(&shared, future, self.name)),
            None => panic!(
                "`zokio::task::Builder::spawn_local` called from outside of a \
                 `task::LocalSet` or `runtime::LocalRuntime`"
            ),
        }
    }

    /// Spawns a `!Send` future on `local_set`, as
    /// [`LocalSet::spawn_local`](super::LocalSet::spawn_local) does.
    #[track_caller]
    pub fn spawn_local_on<Fut>(
        self,
        future: Fut,
        local_set: &super::LocalSet,
    ) -> io::Result<JoinHandle<Fut::Output>>
    where
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        Ok(local_set.spawn_named(future, self.name))
    }

    /// Runs `function` on the current runtime's blocking pool, as
    /// [`spawn_blocking`](super::spawn_blocking) does.
    ///
    /// # Errors
    /// When the pool is shutting down and will not run it.
    ///
    /// # Panics
    /// Outside a Zokio runtime, as [`spawn_blocking`](super::spawn_blocking).
    #[track_caller]
    pub fn spawn_blocking<Function, Output>(
        self,
        function: Function,
    ) -> io::Result<JoinHandle<Output>>
    where
        Function: FnOnce() -> Output + Send + 'static,
        Output: Send + 'static,
    {
        match crate::runtime::context::with_current(Handle::clone) {
            Ok(handle) => self.spawn_blocking_on(function, &handle),
            Err(err) => panic!("`zokio::task::Builder::spawn_blocking` {err}"),
        }
    }

    /// Runs `function` on the blocking pool of `handle`'s runtime, as
    /// [`Handle::spawn_blocking`] does.
    ///
    /// # Errors
    /// When the pool is shutting down and will not run it.
    #[track_caller]
    pub fn spawn_blocking_on<Function, Output>(
        self,
        function: Function,
        handle: &Handle,
    ) -> io::Result<JoinHandle<Output>>
    where
        Function: FnOnce() -> Output + Send + 'static,
        Output: Send + 'static,
    {
        let spawn = SpawnMeta::named(self.name);
        let spawned = handle.inner.blocking().try_spawn(function, Some(spawn));
        spawned.ok_or_else(|| {
            io::Error::other(
                "the runtime's blocking pool is shutting down and refused the closure; \
                 spawn it before the runtime is dropped or shut down",
            )
        })
    }
}
