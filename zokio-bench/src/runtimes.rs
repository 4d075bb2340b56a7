//! The three contenders (Zokio, tokio, smol's `async-executor`) behind one
//! small trait, so every workload is written once and runs unchanged on each.
//!
//! This module only builds schedulers and forwards `block_on`/`spawn` to
//! them. It must never add work of its own to a spawn (no boxing, no extra
//! wrapper futures, no bookkeeping) and never hand out a runtime's own sync
//! types: anything it adds would be measured as that runtime's cost.

use std::future::Future;
use std::io;
use std::thread;

use async_executor::Executor;
use futures::channel::oneshot;

use zokio::runtime::MemoryStrategy;

use crate::alloc_switch::Allocator;
use crate::workloads::Contender;

/// Spawns a detached task from anywhere, including from inside a task of
/// the same runtime. Workloads clone it into tasks that spawn further tasks.
pub trait Spawner: Clone + Send + Sync + 'static {
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;
}

/// A multi-threaded scheduler under test.
pub trait BenchRuntime {
    type Spawner: Spawner;

    fn name(&self) -> &'static str;

    /// Drives `fut` to completion on the calling (bench) thread. Workloads
    /// only ever pass futures that wait on a neutral signal, so whatever the
    /// runtime does on this thread is not scheduler work being measured.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns a detached task from outside the runtime.
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The spawner tasks use to spawn from inside the runtime, through the
    /// runtime's own in-task spawn path.
    fn spawner(&self) -> Self::Spawner;
}

/// Every contender; rounds rotate through them starting from this order.
pub const NAMES: [&str; 3] = ["zokio", "tokio", "smol"];

/// The memory group's contenders: Zokio under each memory strategy, its
/// peers, and Zokio on the system strategy with mimalloc as the process's
/// global allocator (that one runs in a child process: see `memory_child`).
pub const MEMORY_NAMES: [&str; 7] = [
    "zokio-system",
    "zokio-pooled",
    "zokio-numa",
    "zokio-adaptive",
    "tokio",
    "smol",
    MIMALLOC_ROW,
];

/// The contender that runs under mimalloc.
pub const MIMALLOC_ROW: &str = "zokio-system+mimalloc";

/// What a contender name means: its runtime, and the global allocator its
/// process must run under.
pub fn split_allocator(name: &str) -> (&str, Allocator) {
    match name.strip_suffix("+mimalloc") {
        Some(base) => (base, Allocator::Mimalloc),
        None => (name, Allocator::System),
    }
}

/// The memory strategy a `zokio-<strategy>` name asks for; `None` for plain
/// `zokio` (which follows `ZOKIO_MEMORY`) and for the peers.
pub fn zokio_strategy(name: &str) -> Option<MemoryStrategy> {
    match name {
        "zokio-system" => Some(MemoryStrategy::System),
        "zokio-pooled" => Some(MemoryStrategy::Pooled),
        "zokio-numa" => Some(MemoryStrategy::NumaAware),
        "zokio-adaptive" => Some(MemoryStrategy::Adaptive),
        _ => None,
    }
}

/// Builds the named runtime with `workers` threads, behind the object-safe
/// face the orchestrator and the RSS child drive. A `+mimalloc` name builds
/// only in a process that runs under mimalloc, so that no row is ever
/// labelled with an allocator it did not use.
pub fn build(name: &str, workers: usize) -> io::Result<Box<dyn Contender>> {
    let (base, allocator) = split_allocator(name);
    if allocator != crate::alloc_switch::current() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{name}` needs {} as the global allocator and this process runs under {}; \
                 it is run in a child process started with {}={}",
                allocator.name(),
                crate::alloc_switch::current().name(),
                crate::alloc_switch::ENV,
                allocator.name()
            ),
        ));
    }
    if let Some(strategy) = zokio_strategy(base) {
        return Ok(Box::new(Zokio::with_memory(
            workers,
            strategy,
            leak_name(name),
        )?));
    }
    match base {
        "zokio" => Ok(Box::new(Zokio::new(workers)?)),
        "tokio" => Ok(Box::new(Tokio::new(workers)?)),
        "smol" => Ok(Box::new(Smol::new(workers)?)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown runtime `{other}`"),
        )),
    }
}

/// Contender names are a handful of constants; a name built at run time is
/// matched back to one of them so no string is leaked.
fn leak_name(name: &str) -> &'static str {
    MEMORY_NAMES
        .into_iter()
        .find(|n| *n == name)
        .unwrap_or("zokio")
}

// ---------------------------------------------------------------- Zokio

pub struct Zokio {
    rt: zokio::runtime::Runtime,
    /// The contender's name in tables: `zokio`, or `zokio-<strategy>`.
    name: &'static str,
}

impl Zokio {
    pub fn new(workers: usize) -> io::Result<Self> {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("zokio-bench")
            .build()?;
        Ok(Self { rt, name: "zokio" })
    }

    /// A multi-threaded Zokio runtime on the given memory strategy, for the
    /// memory group, named `name` in its tables.
    pub fn with_memory(
        workers: usize,
        strategy: MemoryStrategy,
        name: &'static str,
    ) -> io::Result<Self> {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("zokio-bench")
            .memory(strategy)
            .build()?;
        Ok(Self { rt, name })
    }

    /// A multi-threaded Zokio runtime on the given I/O driver, for the groups
    /// that measure the drivers themselves.
    pub fn with_driver(workers: usize, driver: zokio::runtime::Driver) -> io::Result<Self> {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("zokio-bench")
            .driver(driver)
            .build()?;
        Ok(Self { rt, name: "zokio" })
    }

    /// A current-thread Zokio runtime on the given I/O driver: its tasks run
    /// only inside `block_on`, on the bench thread.
    pub fn current_thread(driver: zokio::runtime::Driver) -> io::Result<Self> {
        let rt = zokio::runtime::Builder::new_current_thread()
            .driver(driver)
            .build()?;
        Ok(Self { rt, name: "zokio" })
    }

    /// The I/O driver the runtime ended up with.
    pub fn driver_kind(&self) -> zokio::runtime::DriverKind {
        self.rt.driver_kind()
    }
}

/// Zero-sized: `zokio::spawn` finds the runtime through its thread context,
/// exactly as application code would.
#[derive(Clone, Copy)]
pub struct ZokioSpawner;

impl Spawner for ZokioSpawner {
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(zokio::spawn(fut));
    }
}

impl BenchRuntime for Zokio {
    type Spawner = ZokioSpawner;

    fn name(&self) -> &'static str {
        self.name
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.rt.spawn(fut));
    }

    fn spawner(&self) -> ZokioSpawner {
        ZokioSpawner
    }
}

// ---------------------------------------------------------------- tokio

pub struct Tokio {
    rt: tokio::runtime::Runtime,
}

impl Tokio {
    pub fn new(workers: usize) -> io::Result<Self> {
        // No `enable_all`: no workload uses I/O or timers, and tokio's own
        // scheduler benches run without drivers too.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("tokio-bench")
            .build()?;
        Ok(Self { rt })
    }

    /// tokio with its I/O and time drivers (`enable_all`), as applications
    /// and the driver groups run it: idle workers then park in `epoll_wait`,
    /// as Zokio's park in their ring or epoll.
    pub fn with_drivers(workers: usize) -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("tokio-bench")
            .enable_all()
            .build()?;
        Ok(Self { rt })
    }
}

/// Zero-sized: `tokio::spawn` finds the runtime through its thread context.
#[derive(Clone, Copy)]
pub struct TokioSpawner;

impl Spawner for TokioSpawner {
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(fut));
    }
}

impl BenchRuntime for Tokio {
    type Spawner = TokioSpawner;

    fn name(&self) -> &'static str {
        "tokio"
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.rt.spawn(fut));
    }

    fn spawner(&self) -> TokioSpawner {
        TokioSpawner
    }
}

// ---------------------------------------------------------------- smol

/// `async-executor` run the way smol's docs show for a thread pool: N
/// threads each blocked in `block_on(ex.run(shutdown_signal))`.
pub struct Smol {
    ex: &'static Executor<'static>,
    shutdown: Vec<oneshot::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Smol {
    pub fn new(workers: usize) -> io::Result<Self> {
        // A `'static` executor, like smol's own global one behind
        // `smol::spawn`, makes the in-task spawner a plain reference. An
        // `Arc<Executor>` would add a contended refcount bump to every
        // nested spawn that tokio's and Zokio's spawners don't pay. One
        // executor per process is leaked, which is nothing.
        let ex: &'static Executor<'static> = Box::leak(Box::new(Executor::new()));
        let mut shutdown = Vec::with_capacity(workers);
        let mut threads = Vec::with_capacity(workers);
        for i in 0..workers {
            let (tx, rx) = oneshot::channel::<()>();
            let handle = thread::Builder::new()
                .name(format!("smol-bench-{i}"))
                .spawn(move || {
                    futures_lite::future::block_on(ex.run(async {
                        let _ = rx.await;
                    }))
                })?;
            shutdown.push(tx);
            threads.push(handle);
        }
        Ok(Self {
            ex,
            shutdown,
            threads,
        })
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        for tx in self.shutdown.drain(..) {
            let _ = tx.send(());
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[derive(Clone, Copy)]
pub struct SmolSpawner(&'static Executor<'static>);

impl Spawner for SmolSpawner {
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(fut).detach();
    }
}

impl BenchRuntime for Smol {
    type Spawner = SmolSpawner;

    fn name(&self) -> &'static str {
        "smol"
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        // The runner threads do the scheduling; the bench thread only waits,
        // as it does inside tokio's and Zokio's `block_on`.
        futures_lite::future::block_on(fut)
    }

    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.ex.spawn(fut).detach();
    }

    fn spawner(&self) -> SmolSpawner {
        SmolSpawner(self.ex)
    }
}
