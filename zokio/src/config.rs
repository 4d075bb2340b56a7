//! Compile-time configuration: a `Config` type picks the scheduler, the I/O driver and
//! the memory strategy through associated types and fixes the tuning through consts, so that a
//! `Runtime<C>` is built for exactly one set of components.
//!
//! `RuntimeInfo` reports what a configuration consists of, with sizes taken from
//! `size_of` of the real structures, never estimated. Only components that exist are
//! named here: a strategy is added when it is built.

use std::mem::size_of;

use crate::runtime::RuntimeFlavor;
use crate::scheduler::multi_thread::{Core, Remote};
use crate::scheduler::queue::CAPACITY;
use crate::task::Notified;

mod sealed {
    pub trait Sealed {}
}

/// A runtime configuration, fixed at compile time.
///
/// ```
/// use zokio::config::{AutoDriver, CurrentThread, System};
///
/// struct Embedded;
/// impl zokio::Config for Embedded {
///     type Scheduler = CurrentThread;
///     type Driver = AutoDriver;
///     type Memory = System;
///     const EVENT_INTERVAL: u32 = 31;
/// }
///
/// let rt = zokio::runtime::Runtime::<Embedded>::with_config().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// assert_eq!(zokio::runtime::Runtime::<Embedded>::INFO.scheduler, "current_thread");
/// ```
pub trait Config: 'static {
    /// Which scheduler runs the tasks.
    type Scheduler: SchedulerKind;
    /// Which I/O driver each worker sleeps in.
    type Driver: DriverChoice;
    /// Where task memory comes from.
    type Memory: MemoryChoice;
    /// Worker threads; 0 means one per available CPU. Ignored by `CurrentThread`.
    const WORKER_THREADS: usize = 0;
    /// Every this many ticks a worker looks at the global queue before its own.
    const GLOBAL_QUEUE_INTERVAL: u32 = 31;
    /// Every this many ticks a worker checks for shutdown and outside events.
    const EVENT_INTERVAL: u32 = 61;
    /// Upper bound on the blocking pool's threads.
    const MAX_BLOCKING_THREADS: usize = 512;
    /// Name of the worker threads.
    const THREAD_NAME: &'static str = "zokio-worker";
}

/// A scheduler that a `Config` can choose.
pub trait SchedulerKind: sealed::Sealed + 'static {
    /// A short name for reports.
    const NAME: &'static str;
    /// The flavour it builds; `None` when the `Builder` decides at run time.
    const FLAVOR: Option<RuntimeFlavor>;
    /// Memory one worker costs for its scheduler state, as laid out by the compiler.
    const PER_WORKER_BYTES: usize;
}

/// An I/O driver that a `Config` can choose.
pub trait DriverChoice: sealed::Sealed + 'static {
    /// A short name for reports.
    const NAME: &'static str;
    /// The driver forced; `None` when the `Builder` or `ZOKIO_DRIVER` decides.
    const CHOICE: Option<crate::runtime::Driver>;
}

/// The platform's best driver (on Linux io_uring where the kernel allows it, else
/// epoll, else poll; kqueue on macOS and the BSDs, else poll; IOCP on Windows); the
/// `Builder` and `ZOKIO_DRIVER` may still force one.
pub struct AutoDriver;
/// io_uring only (Linux): building fails where a ring cannot be set up.
#[cfg(target_os = "linux")]
pub struct IoUring;
/// epoll only (Linux).
#[cfg(target_os = "linux")]
pub struct Epoll;
/// kqueue only (macOS, iOS and the BSDs).
#[cfg(kqueue)]
pub struct Kqueue;
/// poll(2) only (any Unix).
#[cfg(unix)]
pub struct Poll;
/// IOCP only (Windows).
#[cfg(windows)]
pub struct Iocp;

impl sealed::Sealed for AutoDriver {}
impl DriverChoice for AutoDriver {
    const NAME: &'static str = if cfg!(target_os = "linux") {
        "auto (io_uring, else epoll, else poll)"
    } else if cfg!(windows) {
        "auto (IOCP)"
    } else if cfg!(kqueue) {
        "auto (kqueue, else poll)"
    } else {
        "auto (poll)"
    };
    const CHOICE: Option<crate::runtime::Driver> = None;
}

#[cfg(target_os = "linux")]
impl sealed::Sealed for IoUring {}
#[cfg(target_os = "linux")]
impl DriverChoice for IoUring {
    const NAME: &'static str = "io_uring";
    const CHOICE: Option<crate::runtime::Driver> = Some(crate::runtime::Driver::IoUring);
}

#[cfg(target_os = "linux")]
impl sealed::Sealed for Epoll {}
#[cfg(target_os = "linux")]
impl DriverChoice for Epoll {
    const NAME: &'static str = "epoll";
    const CHOICE: Option<crate::runtime::Driver> = Some(crate::runtime::Driver::Epoll);
}

#[cfg(kqueue)]
impl sealed::Sealed for Kqueue {}
#[cfg(kqueue)]
impl DriverChoice for Kqueue {
    const NAME: &'static str = "kqueue";
    const CHOICE: Option<crate::runtime::Driver> = Some(crate::runtime::Driver::Kqueue);
}

#[cfg(windows)]
impl sealed::Sealed for Iocp {}
#[cfg(windows)]
impl DriverChoice for Iocp {
    const NAME: &'static str = "iocp";
    const CHOICE: Option<crate::runtime::Driver> = Some(crate::runtime::Driver::Iocp);
}

#[cfg(unix)]
impl sealed::Sealed for Poll {}
#[cfg(unix)]
impl DriverChoice for Poll {
    const NAME: &'static str = "poll";
    const CHOICE: Option<crate::runtime::Driver> = Some(crate::runtime::Driver::Poll);
}

/// Where task and operation-cell memory comes from (see
/// [`MemoryStrategy`](crate::memory::MemoryStrategy)).
pub trait MemoryChoice: sealed::Sealed + 'static {
    /// A short name for reports.
    const NAME: &'static str;
    /// The strategy forced; `None` when the `Builder` or `ZOKIO_MEMORY` decides.
    const CHOICE: Option<crate::memory::MemoryStrategy>;
}

/// Work stealing across worker threads.
pub struct MultiThread;
/// Every task on the thread that calls `block_on`.
pub struct CurrentThread;
/// One worker per core; tasks stay where they were spawned.
pub struct ThreadPerCore;
/// Whichever flavour the `Builder` was asked for (multi-thread by default).
pub struct BuilderChoice;

/// The global allocator, one allocation per task and per operation cell.
pub struct System;
/// Per-thread pools of task and operation cells (`MemoryStrategy::Pooled`).
pub struct Pooled;
/// Pools plus NUMA placement of workers and memory (`MemoryStrategy::NumaAware`).
pub struct NumaAware;
/// `NumaAware` on a machine with several NUMA nodes, `Pooled` on one
/// (`MemoryStrategy::Adaptive`).
pub struct Adaptive;
/// Whatever the `Builder` or `ZOKIO_MEMORY` says; `System` by default.
pub struct AutoMemory;

const MULTI_THREAD_WORKER_BYTES: usize =
    size_of::<Core>() + CAPACITY * size_of::<Notified>() + size_of::<Remote>();

impl sealed::Sealed for MultiThread {}
impl SchedulerKind for MultiThread {
    const NAME: &'static str = "multi_thread";
    const FLAVOR: Option<RuntimeFlavor> = Some(RuntimeFlavor::MultiThread);
    const PER_WORKER_BYTES: usize = MULTI_THREAD_WORKER_BYTES;
}

impl sealed::Sealed for CurrentThread {}
impl SchedulerKind for CurrentThread {
    const NAME: &'static str = "current_thread";
    const FLAVOR: Option<RuntimeFlavor> = Some(RuntimeFlavor::CurrentThread);
    const PER_WORKER_BYTES: usize = size_of::<crate::scheduler::current_thread::Core>();
}

impl sealed::Sealed for ThreadPerCore {}
impl SchedulerKind for ThreadPerCore {
    const NAME: &'static str = "thread_per_core";
    const FLAVOR: Option<RuntimeFlavor> = Some(RuntimeFlavor::ThreadPerCore);
    const PER_WORKER_BYTES: usize = size_of::<crate::scheduler::thread_per_core::WorkerShared>();
}

impl sealed::Sealed for BuilderChoice {}
impl SchedulerKind for BuilderChoice {
    const NAME: &'static str = "chosen by Builder (multi_thread by default)";
    const FLAVOR: Option<RuntimeFlavor> = None;
    const PER_WORKER_BYTES: usize = MULTI_THREAD_WORKER_BYTES;
}

macro_rules! memory_choice {
    ($($ty:ident => $name:literal, $choice:expr;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl MemoryChoice for $ty {
            const NAME: &'static str = $name;
            const CHOICE: Option<crate::memory::MemoryStrategy> = $choice;
        }
    )*};
}

memory_choice! {
    System => "system", Some(crate::memory::MemoryStrategy::System);
    Pooled => "pooled", Some(crate::memory::MemoryStrategy::Pooled);
    NumaAware => "numa", Some(crate::memory::MemoryStrategy::NumaAware);
    Adaptive => "adaptive", Some(crate::memory::MemoryStrategy::Adaptive);
    AutoMemory => "chosen by Builder or ZOKIO_MEMORY (system by default)", None;
}

/// The configuration behind `Runtime::new()` and the `Builder`.
pub struct DefaultConfig;

impl Config for DefaultConfig {
    type Scheduler = BuilderChoice;
    type Driver = AutoDriver;
    type Memory = AutoMemory;
}

/// What a configuration is made of; see `Runtime::<C>::INFO`.
///
/// A `const`, so a program can print or check what a runtime will cost before
/// building one.
///
/// # Examples
///
/// ```
/// use zokio::runtime::Runtime;
///
/// let info = Runtime::<zokio::DefaultConfig>::INFO;
/// println!(
///     "{} scheduler, {} driver: {} bytes of scheduler state and {} of driver state per worker",
///     info.scheduler, info.driver, info.per_worker_bytes, info.driver_bytes,
/// );
/// assert!(info.task_header_bytes > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeInfo {
    /// The scheduler's name.
    pub scheduler: &'static str,
    /// The I/O driver choice's name.
    pub driver: &'static str,
    /// Bytes of one worker's driver state (I/O driver, timer handle, shared part's
    /// pointer), as laid out by the compiler; the kernel's ring memory is not included.
    pub driver_bytes: usize,
    /// The memory strategy's name.
    pub memory: &'static str,
    /// Under a pooled strategy, the block sizes a cell is rounded up to, smallest
    /// first (a 40-byte task cell takes a 40-byte block); larger cells come from the
    /// global allocator. The task registry then lists a pooled task in 4 bytes (the
    /// block's short address) rather than 8.
    pub pool_block_bytes: &'static [usize],
    /// Bytes of one pool segment: what a pool takes from the system at a time.
    pub pool_segment_bytes: usize,
    /// Bytes of the header every I/O operation cell carries (state, result, waker,
    /// driver slot, vtable), before the operation's own data.
    pub op_header_bytes: usize,
    /// Bytes of the header every task carries (state word, vtable, join slot).
    pub task_header_bytes: usize,
    /// Bytes of scheduler state per worker: core, run-queue slots, remote half.
    pub per_worker_bytes: usize,
    /// Slots in each worker's local run queue.
    pub local_queue_capacity: usize,
    /// Configured worker threads (0: one per CPU).
    pub worker_threads: usize,
    /// Ticks between looks at the global queue first.
    pub global_queue_interval: u32,
    /// Ticks between checks for shutdown and outside events.
    pub event_interval: u32,
}

impl RuntimeInfo {
    pub(crate) const fn of<C: Config>() -> RuntimeInfo {
        RuntimeInfo {
            scheduler: C::Scheduler::NAME,
            driver: C::Driver::NAME,
            driver_bytes: size_of::<crate::driver::LocalDriver>(),
            memory: C::Memory::NAME,
            pool_block_bytes: &crate::memory::pool::class::CLASS_SIZES,
            pool_segment_bytes: crate::memory::pool::SEGMENT_SIZE,
            op_header_bytes: size_of::<crate::driver::op::cell::OpHeader>(),
            task_header_bytes: crate::task::HEADER_BYTES,
            per_worker_bytes: C::Scheduler::PER_WORKER_BYTES,
            local_queue_capacity: CAPACITY,
            worker_threads: C::WORKER_THREADS,
            global_queue_interval: C::GLOBAL_QUEUE_INTERVAL,
            event_interval: C::EVENT_INTERVAL,
        }
    }
}
