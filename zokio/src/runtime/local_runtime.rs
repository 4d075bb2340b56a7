//! `LocalRuntime`: a current-thread runtime on which `spawn_local` works everywhere,
//! for programs whose futures are not `Send`.
//!
//! It is a current-thread `Runtime` and a `LocalSet` kept current on the thread for
//! the whole of every `block_on`: the set's tasks, the runtime's tasks and the future
//! blocked on all take turns on that one thread. Like the set, it is neither `Send` nor
//! `Sync`. Nothing here schedules a task itself; the set and the runtime do.

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

use super::{EnterGuard, Handle, Runtime};
use crate::task::{JoinHandle, LocalSet};

/// Options for [`Builder::build_local`](super::Builder::build_local). There are none
/// yet; it exists for tokio parity, and room to grow.
#[derive(Default, Debug)]
#[non_exhaustive]
pub struct LocalOptions {
    _not_send: PhantomData<*mut u8>,
}

/// A runtime that runs every task on the thread that calls `block_on`, including
/// tasks that are not `Send` ([`LocalRuntime::spawn_local`], [`crate::task::spawn_local`]).
///
/// Build it with `Builder::new_current_thread().build_local(LocalOptions::default())`
/// or [`LocalRuntime::new`]; `#[zokio::main(flavor = "local")]` makes one too.
///
/// ```
/// use std::rc::Rc;
///
/// let rt = zokio::runtime::LocalRuntime::new().unwrap();
/// let not_send = Rc::new(5);
/// let doubled = rt.block_on(async move {
///     zokio::task::spawn_local(async move { *not_send * 2 }).await.unwrap()
/// });
/// assert_eq!(doubled, 10);
/// ```
pub struct LocalRuntime {
    local: LocalSet,
    /// `None` only once a `shutdown_*` call has taken it.
    runtime: Option<Runtime>,
}

impl LocalRuntime {
    /// A local runtime with the default settings.
    pub fn new() -> io::Result<LocalRuntime> {
        super::Builder::new_current_thread()
            .enable_all()
            .build_local(LocalOptions::default())
    }

    pub(super) fn from_runtime(runtime: Runtime) -> LocalRuntime {
        LocalRuntime {
            local: LocalSet::new(),
            runtime: Some(runtime),
        }
    }

    fn runtime(&self) -> &Runtime {
        self.runtime
            .as_ref()
            .expect("a LocalRuntime has its runtime until it is consumed by a shutdown")
    }

    /// Drop the set's tasks with the runtime current, since their futures may hold
    /// its timers and sockets; then the runtime itself.
    fn close(&mut self) -> Option<Runtime> {
        let runtime = self.runtime.take()?;
        {
            let _current = runtime.enter();
            self.local.close();
        }
        Some(runtime)
    }

    /// A handle to the runtime. Futures spawned through it must be `Send`.
    pub fn handle(&self) -> &Handle {
        self.runtime().handle()
    }

    /// Spawn a `!Send` future; it runs during this runtime's `block_on` calls.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.local.spawn_local(future)
    }

    /// Run a blocking closure on the runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.runtime().spawn_blocking(f)
    }

    /// Run `future` to completion on this thread, running every other task of the
    /// runtime meanwhile; `spawn_local` works anywhere inside it.
    ///
    /// # Panics
    /// Inside a task or another `block_on`, as [`Runtime::block_on`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _local = self.local.enter();
        self.runtime().block_on(self.local.run_until(future))
    }

    /// Make this runtime current on this thread until the guard is dropped: both
    /// `zokio::spawn` and `spawn_local` then work outside async code.
    pub fn enter(&self) -> EnterGuard<'_> {
        let mut guard = self.runtime().enter();
        guard.local = Some(self.local.enter());
        guard
    }

    /// Shut down, waiting at most `duration` for the blocking pool's threads.
    pub fn shutdown_timeout(mut self, duration: Duration) {
        if let Some(runtime) = self.close() {
            runtime.shutdown_timeout(duration);
        }
    }

    /// Shut down without waiting for the blocking pool's threads.
    pub fn shutdown_background(mut self) {
        if let Some(runtime) = self.close() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for LocalRuntime {
    fn drop(&mut self) {
        drop(self.close());
    }
}

impl fmt::Debug for LocalRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRuntime")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}
