//! The runtime: what `Runtime<C>` owns (scheduler threads, blocking pool), how it is
//! built (`builder.rs`), found (`handle.rs`, `context.rs`) and shut down.
//!
//! Dropping a runtime cancels every task still alive, waits for its threads and for
//! running blocking closures, and leaks nothing. This module must never poll a task
//! itself; schedulers do that.

pub(crate) mod blocking;
pub(crate) mod builder;
pub(crate) mod context;
mod handle;
mod id;
mod local_runtime;
pub(crate) mod metrics;
mod park_thread;
pub(crate) mod threads;

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

pub use crate::driver::{Driver, DriverKind, IoCounters};
pub use crate::memory::MemoryStrategy;
pub use builder::Builder;
pub use handle::{EnterGuard, Handle, RuntimeFlavor, TryCurrentError};
pub use id::Id;
pub use local_runtime::{LocalOptions, LocalRuntime};
pub use metrics::{HistogramConfiguration, RuntimeMetrics};

use crate::config::{Config, DefaultConfig, RuntimeInfo};
use crate::scheduler;
use crate::task::JoinHandle;
use blocking::BlockingPool;
use threads::ThreadGroup;

/// An asynchronous runtime: a scheduler with its threads, and a blocking pool.
///
/// `C` fixes the components at compile time; the default lets the [`Builder`] choose.
pub struct Runtime<C: Config = DefaultConfig> {
    handle: Handle,
    threads: Option<ThreadGroup>,
    blocking: BlockingPool,
    shut_down: bool,
    _config: PhantomData<fn() -> C>,
}

impl Runtime {
    /// A multi-thread runtime with one worker per CPU.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }
}

/// How long shutdown may wait for threads.
#[derive(Clone, Copy)]
enum Wait {
    Forever,
    For(Duration),
    Not,
}

impl Wait {
    fn timeout(self) -> Option<Duration> {
        match self {
            Wait::Forever => None,
            Wait::For(d) => Some(d),
            Wait::Not => Some(Duration::ZERO),
        }
    }
}

impl<C: Config> Runtime<C> {
    /// What this configuration is made of, known at compile time.
    pub const INFO: RuntimeInfo = RuntimeInfo::of::<C>();

    /// Build a runtime from `C`'s scheduler and consts.
    pub fn with_config() -> io::Result<Runtime<C>> {
        Builder::from_config::<C>().build_config::<C>()
    }

    /// Run a future to completion on this thread, with this runtime current.
    ///
    /// # Panics
    /// When called from a thread that already drives tasks (inside a task or another
    /// `block_on`): that would stall every task on it.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawn a future on this runtime.
    #[track_caller]
    #[inline]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Run a blocking closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The I/O driver the workers ended up with: the one [`Builder::driver`] or
    /// `ZOKIO_DRIVER` forced, or the first that `Driver::Auto` could set up.
    pub fn driver_kind(&self) -> DriverKind {
        self.handle.driver_kind()
    }

    /// What the runtime's I/O drivers did so far; see [`Handle::io_counters`].
    ///
    /// # Examples
    ///
    /// Sampled before and after a piece of work, the difference is what that work cost
    /// the drivers:
    ///
    /// ```
    /// let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let before = rt.io_counters();
    /// rt.block_on(async {
    ///     for _ in 0..10 {
    ///         zokio::io::ops::nop().await.unwrap();
    ///     }
    /// });
    /// let cost = rt.io_counters() - before;
    /// println!("10 nops: {} kernel calls, {} completions", cost.kernel_calls, cost.completed);
    /// ```
    pub fn io_counters(&self) -> IoCounters {
        self.handle.io_counters()
    }

    /// This runtime's metrics; see [`Handle::metrics`].
    pub fn metrics(&self) -> super::runtime::RuntimeMetrics {
        self.handle.metrics()
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Make this runtime current on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shut down, waiting at most `duration` for threads and blocking closures.
    pub fn shutdown_timeout(mut self, duration: Duration) {
        self.shutdown(Wait::For(duration));
    }

    /// Shut down without waiting: threads finish on their own in the background.
    pub fn shutdown_background(mut self) {
        self.shutdown(Wait::Not);
    }

    fn shutdown(&mut self, wait: Wait) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        // Waiting on a thread of ours from a thread that drives tasks could deadlock.
        let wait = if crate::runtime::context::is_driving() {
            Wait::Not
        } else {
            wait
        };
        match &self.handle.inner {
            scheduler::Handle::CurrentThread(handle) => {
                let _current = context::set_current(&self.handle);
                handle.shutdown();
            }
            scheduler::Handle::MultiThread(handle) => handle.begin_shutdown(),
            scheduler::Handle::ThreadPerCore(handle) => handle.begin_shutdown(),
        }
        if let Some(threads) = &mut self.threads {
            let finished = match wait {
                Wait::Not => false,
                _ => threads.wait(wait.timeout()),
            };
            if !finished {
                threads.detach();
            }
        }
        self.blocking.shutdown(wait.timeout());
    }
}

impl<C: Config> Drop for Runtime<C> {
    fn drop(&mut self) {
        self.shutdown(Wait::Forever);
    }
}

impl<C: Config> fmt::Debug for Runtime<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.runtime_flavor())
            .field("info", &Self::INFO)
            .finish()
    }
}
