//! `Builder`: choose a scheduler flavour and its settings at run time, with tokio's
//! names, and build a `Runtime`.
//!
//! Every setting is checked in `build()`, which returns an `InvalidInput` error naming
//! the setting and the accepted range; nothing here panics on bad input.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::blocking::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};
use super::threads::{Hook, ThreadGroup, ThreadSpec};
use super::{Handle, HistogramConfiguration, Runtime, RuntimeFlavor};
use crate::config::Config;
use crate::driver::{self, Driver, DriverOptions, Drivers, LocalDriver};
use crate::memory::{numa, MemoryOptions, MemoryPlan, MemoryStrategy};
use crate::scheduler::multi_thread::{self, Tuning};
use crate::scheduler::{self, current_thread, thread_per_core};
use crate::task::OwnedTasks;

/// Builds a runtime with custom settings.
pub struct Builder {
    flavor: RuntimeFlavor,
    name: Option<String>,
    worker_threads: Option<usize>,
    thread_name: String,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<Hook>,
    on_thread_stop: Option<Hook>,
    park_hooks: driver::ParkHooks,
    /// `None`: the work-stealing workers tune it to their tasks' poll times.
    global_queue_interval: Option<u32>,
    event_interval: u32,
    poll_time_histogram: bool,
    poll_time_histogram_configuration: HistogramConfiguration,
    spawn_locations: bool,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    drivers: DriverOptions,
    memory: MemoryOptions,
}

impl Builder {
    fn with_flavor(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            name: None,
            worker_threads: None,
            thread_name: "zokio-worker".to_owned(),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            park_hooks: driver::ParkHooks::default(),
            global_queue_interval: None,
            event_interval: 61,
            poll_time_histogram: false,
            poll_time_histogram_configuration: HistogramConfiguration::default(),
            spawn_locations: false,
            max_blocking_threads: DEFAULT_MAX_THREADS,
            thread_keep_alive: DEFAULT_KEEP_ALIVE,
            drivers: DriverOptions::default(),
            memory: MemoryOptions::default(),
        }
    }

    /// A work-stealing runtime with one worker per CPU unless told otherwise.
    pub fn new_multi_thread() -> Builder {
        Builder::with_flavor(RuntimeFlavor::MultiThread)
    }

    /// A runtime that runs every task on the thread calling `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::with_flavor(RuntimeFlavor::CurrentThread)
    }

    /// A runtime with one worker per CPU (or as set) and no stealing: each task stays
    /// on the worker it was spawned on.
    ///
    /// # Examples
    ///
    /// A task and the tasks it spawns share its worker's thread, so a worker's state
    /// needs no lock between them; spread work by spawning from outside.
    ///
    /// ```
    /// let rt = zokio::runtime::Builder::new_thread_per_core()
    ///     .worker_threads(2)
    ///     .build()
    ///     .unwrap();
    /// let same_thread = rt.block_on(async {
    ///     zokio::spawn(async {
    ///         let outer = std::thread::current().id();
    ///         let inner = zokio::spawn(async { std::thread::current().id() }).await.unwrap();
    ///         outer == inner
    ///     })
    ///     .await
    ///     .unwrap()
    /// });
    /// assert!(same_thread);
    /// ```
    pub fn new_thread_per_core() -> Builder {
        Builder::with_flavor(RuntimeFlavor::ThreadPerCore)
    }

    /// Number of worker threads (must be at least 1). Ignored by current-thread.
    ///
    /// The default is one per CPU the building thread may run on. With more workers
    /// than that, each still takes new work as in tokio, but a busy worker never wakes
    /// a helper once as many workers are awake as there are CPUs: the helper could
    /// only take turns with it, holding the connections it took for whole time slices.
    pub fn worker_threads(&mut self, count: usize) -> &mut Self {
        self.worker_threads = Some(count);
        self
    }

    /// Name of the runtime's threads (blocking threads get a `-blocking` suffix).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Run `f` at the start of every runtime thread.
    pub fn on_thread_start<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Run `f` when each runtime thread stops.
    pub fn on_thread_stop<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Run `f` each time a runtime thread is about to sleep for want of work (tokio's
    /// `on_thread_park`): a worker, or the thread driving a current-thread runtime.
    ///
    /// # Examples
    ///
    /// Counting how often the runtime runs out of work:
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counter = parks.clone();
    /// let rt = zokio::runtime::Builder::new_current_thread()
    ///     .on_thread_park(move || {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // Nothing to run while the timer waits: the thread parks.
    ///     zokio::spawn(zokio::time::sleep(Duration::from_millis(20))).await.unwrap();
    /// });
    /// assert!(parks.load(Ordering::Relaxed) >= 1);
    /// ```
    pub fn on_thread_park<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Self {
        self.park_hooks.before = Some(Arc::new(f));
        self
    }

    /// Run `f` each time a runtime thread wakes from such a sleep (tokio's
    /// `on_thread_unpark`).
    pub fn on_thread_unpark<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Self {
        self.park_hooks.after = Some(Arc::new(f));
        self
    }

    /// Every this many ticks a worker takes from the global queue before its own
    /// (fairness for spawns from outside). Must be at least 1.
    ///
    /// Unset, the current-thread and thread-per-core schedulers use 31, and the
    /// work-stealing workers tune it as tokio's do: to about 200 µs of their tasks'
    /// mean poll time, between 2 and 127 ticks.
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.global_queue_interval = Some(ticks);
        self
    }

    /// Every this many ticks a worker looks for shutdown and outside events. Must be
    /// at least 1.
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.event_interval = ticks;
        self
    }

    /// Time every task poll and count it in the poll-time histogram of
    /// [`RuntimeMetrics`](crate::runtime::RuntimeMetrics), as tokio's builder method
    /// of the same name. Off by default: it reads the clock around every poll.
    ///
    /// ```
    /// let rt = zokio::runtime::Builder::new_current_thread()
    ///     .enable_metrics_poll_time_histogram()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { zokio::spawn(async {}).await.unwrap() });
    /// let metrics = rt.metrics();
    /// let polls: u64 = (0..metrics.poll_time_histogram_num_buckets())
    ///     .map(|b| metrics.poll_time_histogram_bucket_count(0, b))
    ///     .sum();
    /// assert!(polls >= 1);
    /// ```
    pub fn enable_metrics_poll_time_histogram(&mut self) -> &mut Self {
        self.poll_time_histogram = true;
        self
    }

    /// The poll-time histogram's buckets (default: tokio's, 10 linear buckets of
    /// 100 µs); it still has to be turned on with
    /// [`enable_metrics_poll_time_histogram`](Self::enable_metrics_poll_time_histogram).
    pub fn metrics_poll_time_histogram_configuration(
        &mut self,
        configuration: HistogramConfiguration,
    ) -> &mut Self {
        self.poll_time_histogram_configuration = configuration;
        self
    }

    /// Record where each task was spawned (the caller of `zokio::spawn`,
    /// [`Handle::spawn`](crate::runtime::Handle::spawn), a `JoinSet`'s spawn, ...),
    /// for [`TaskInfo::location`](crate::task::TaskInfo::location) in
    /// [`Handle::alive_tasks`](crate::runtime::Handle::alive_tasks).
    ///
    /// Off by default, as in tokio, which records spawn locations only in its
    /// instrumented builds: finding a call site's record costs each spawn about 3%
    /// more instructions. Always on under the `tracing` feature, for tokio-console.
    /// Tasks named with [`task::Builder`](crate::task::Builder), blocking closures
    /// and [`LocalSet`](crate::task::LocalSet) tasks carry their location whatever
    /// this says.
    ///
    /// ```
    /// let rt = zokio::runtime::Builder::new_current_thread()
    ///     .enable_spawn_locations()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let task = zokio::spawn(std::future::pending::<()>());
    ///     let tasks = zokio::runtime::Handle::current().alive_tasks();
    ///     let info = tasks.iter().find(|t| t.id() == task.id()).unwrap();
    ///     assert_eq!(info.location().unwrap().file(), file!());
    ///     task.abort();
    /// });
    /// ```
    pub fn enable_spawn_locations(&mut self) -> &mut Self {
        self.spawn_locations = true;
        self
    }

    /// Upper bound on threads of the blocking pool (must be at least 1).
    pub fn max_blocking_threads(&mut self, count: usize) -> &mut Self {
        self.max_blocking_threads = count;
        self
    }

    /// How long an idle blocking thread waits for work before exiting.
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.thread_keep_alive = duration;
        self
    }

    /// Which I/O driver to use: `Auto` (the platform's best: on Linux io_uring,
    /// falling back to epoll where a ring cannot be set up, and to poll where epoll
    /// cannot be either; kqueue, else poll, on macOS and the BSDs), or one driver
    /// forced: `IoUring` (fail to build without it), `Epoll`, `Kqueue` or `Poll`, as
    /// the platform has them. Without this call the `ZOKIO_DRIVER` environment
    /// variable (`auto`, `io_uring`, `epoll`, `kqueue`, `poll`) decides, and Auto when
    /// it is unset; a value naming a driver this platform lacks is an error at
    /// `build()` that lists the ones it has.
    ///
    /// # Examples
    ///
    /// ```
    /// use zokio::runtime::{Builder, Driver};
    ///
    /// // Auto never fails for want of a driver: it falls back until one can be set up.
    /// let rt = Builder::new_current_thread().driver(Driver::Auto).build().unwrap();
    /// println!("running on {:?}", rt.driver_kind());
    ///
    /// // poll(2) exists on every Unix, so forcing it always builds there.
    /// # #[cfg(unix)]
    /// # {
    /// let rt = Builder::new_current_thread().driver(Driver::Poll).build().unwrap();
    /// assert_eq!(rt.driver_kind(), zokio::runtime::DriverKind::Poll);
    /// # }
    /// ```
    pub fn driver(&mut self, driver: Driver) -> &mut Self {
        self.drivers.choice = Some(driver);
        self
    }

    /// Start with the clock paused, as after `zokio::time::pause()`: timers fire in
    /// order without real waiting, whenever the runtime has nothing else to do.
    /// Current-thread runtimes only, as in tokio.
    ///
    /// # Examples
    ///
    /// An hour-long timer in a test that finishes at once:
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = zokio::runtime::Builder::new_current_thread()
    ///     .start_paused(true)
    ///     .build()
    ///     .unwrap();
    /// let wall = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = zokio::time::Instant::now();
    ///     zokio::time::sleep(Duration::from_secs(3600)).await;
    ///     assert!(start.elapsed() >= Duration::from_secs(3600));
    /// });
    /// assert!(wall.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Self {
        self.drivers.start_paused = start_paused;
        self
    }

    /// Test hook: make io_uring set-up fail with `errno`, as on a kernel or sandbox
    /// without it (ENOSYS, EPERM, ENOMEM), to exercise the epoll fallback.
    #[doc(hidden)]
    pub fn simulate_io_uring_setup_failure(&mut self, errno: i32) -> &mut Self {
        self.drivers.simulate_uring_failure = Some(errno);
        self
    }

    /// Test hook: make epoll set-up fail with `errno` as well (Auto then falls back to
    /// poll).
    #[doc(hidden)]
    #[cfg(target_os = "linux")]
    pub fn simulate_epoll_setup_failure(&mut self, errno: i32) -> &mut Self {
        self.drivers.simulate_epoll_failure = Some(errno);
        self
    }

    /// Where task cells and I/O operation cells come from: `System` (the global
    /// allocator, the default), `Pooled`, `NumaAware` or `Adaptive`; see
    /// [`MemoryStrategy`]. Without this call the `ZOKIO_MEMORY` environment variable
    /// (`system`, `pooled`, `numa`, `adaptive`) decides; an unknown value makes
    /// `build()` fail with an error naming the valid ones.
    pub fn memory(&mut self, strategy: MemoryStrategy) -> &mut Self {
        self.memory.choice = Some(strategy);
        self
    }

    /// The directory that stands in for `/sys` when the `NumaAware` and `Adaptive`
    /// strategies read the machine's NUMA nodes (`devices/system/node/node*/cpulist`
    /// and `devices/system/cpu/online` under it), so that a test can describe a
    /// machine with several nodes. Without this call the `ZOKIO_SYSFS_ROOT`
    /// environment variable decides, else `/sys`. A tree that is missing or malformed
    /// counts as one node (said at debug level); it never makes `build()` fail. Other
    /// strategies never read it.
    ///
    /// ```
    /// use zokio::runtime::{Builder, MemoryStrategy};
    ///
    /// // A directory with no node in it: one node, so `Adaptive` is `Pooled`.
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .memory(MemoryStrategy::Adaptive)
    ///     .numa_sysfs_root(std::env::temp_dir().join("zokio-doc-no-sysfs-here"))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.handle().memory_strategy(), MemoryStrategy::Pooled);
    /// ```
    pub fn numa_sysfs_root(&mut self, root: impl Into<std::path::PathBuf>) -> &mut Self {
        self.memory.sysfs_root = Some(root.into());
        self
    }

    /// Accepted for tokio compatibility: Zokio's I/O and time drivers are always
    /// enabled, so this changes nothing.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility: the I/O driver is always enabled.
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility: the time driver is always enabled.
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Name the runtime, as tokio's `Builder::name`: [`Handle::name`] returns it, and
    /// logs and panics can tell runtimes apart by it. Must not be empty (`build`
    /// returns an `InvalidInput` error otherwise).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = Some(name.into());
        self
    }

    /// Build the runtime.
    pub fn build(&mut self) -> io::Result<Runtime> {
        self.build_config()
    }

    /// Build a [`LocalRuntime`](super::LocalRuntime): a current-thread runtime on which
    /// futures that are not `Send` can be spawned (`spawn_local`).
    ///
    /// Returns an `InvalidInput` error for any other flavour (tokio panics instead):
    /// a local runtime runs every task on the thread that calls `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use zokio::runtime::{Builder, LocalOptions};
    ///
    /// let rt = Builder::new_current_thread().build_local(LocalOptions::default()).unwrap();
    /// // `Rc` is not `Send`: only a local runtime can spawn a task that holds one.
    /// let shared = Rc::new(5);
    /// let copy = shared.clone();
    /// let doubled = rt.block_on(async move {
    ///     zokio::task::spawn_local(async move { *copy * 2 }).await.unwrap()
    /// });
    /// assert_eq!(doubled, 10);
    ///
    /// assert!(Builder::new_multi_thread().build_local(LocalOptions::default()).is_err());
    /// ```
    pub fn build_local(
        &mut self,
        _options: super::LocalOptions,
    ) -> io::Result<super::LocalRuntime> {
        if self.flavor != RuntimeFlavor::CurrentThread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "build_local on a {:?} builder: a LocalRuntime runs every task on the thread \
                     that calls block_on; build it from `Builder::new_current_thread()`",
                    self.flavor
                ),
            ));
        }
        Ok(super::LocalRuntime::from_runtime(self.build()?))
    }

    /// Build a runtime typed with configuration `C`; its flavour must match.
    pub(crate) fn build_config<C: Config>(&mut self) -> io::Result<Runtime<C>> {
        self.validate()?;
        let requested = MemoryPlan::requested(&self.memory)?;
        // The topology is read only for the strategies that use it.
        let topology = matches!(
            requested,
            MemoryStrategy::NumaAware | MemoryStrategy::Adaptive
        )
        .then(|| numa::read_topology(self.memory.sysfs_root.as_deref()));
        let memory = MemoryPlan::for_choice(
            requested,
            topology.as_ref().map_or(1, numa::Topology::node_count),
        );
        let workers = self.worker_threads.unwrap_or_else(default_workers);
        // Workers are placed only where there are worker threads; a current-thread
        // runtime runs on its caller's thread, wherever that is.
        let placement = match (topology, memory.strategy, self.flavor) {
            (_, _, RuntimeFlavor::CurrentThread) => None,
            (Some(topology), MemoryStrategy::NumaAware, _) => {
                Some(Arc::new(numa::Placement::new(topology, workers)))
            }
            _ => None,
        };
        let tuning = Tuning {
            global_queue_interval: self
                .global_queue_interval
                .unwrap_or(DEFAULT_GLOBAL_QUEUE_INTERVAL),
            tune_global_queue_interval: self.global_queue_interval.is_none(),
            event_interval: self.event_interval,
            poll_time_histogram: self
                .poll_time_histogram
                .then_some(self.poll_time_histogram_configuration),
            spawn_locations: self.spawn_locations || cfg!(feature = "tracing"),
        };
        let spec = ThreadSpec {
            name: self.thread_name.clone(),
            stack_size: self.thread_stack_size,
            on_start: self.on_thread_start.clone(),
            on_stop: self.on_thread_stop.clone(),
            prepare_each: None,
        };
        let mut blocking_spec = spec.clone();
        if placement.is_some() {
            // Blocking threads are started by workers, whose node pin they would
            // inherit: they get back the CPUs the runtime was built with.
            if let Some(cpus) = numa::allowed_cpus() {
                blocking_spec.prepare_each = Some(Arc::new(move || numa::leave_node(&cpus)));
            }
        }
        let blocking = BlockingPool::new(
            blocking_spec,
            self.max_blocking_threads,
            self.thread_keep_alive,
        );
        let spawner = blocking.spawner().clone();
        let (handle, threads) = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                // The core moves between the threads that call `block_on`, so its ring
                // cannot be tied to one submitting thread.
                let (drivers, mut locals) = driver::build_drivers(&self.drivers, 1, false)?;
                for local in &mut locals {
                    local.set_park_hooks(self.park_hooks.clone());
                }
                let local = locals.pop().expect("one driver");
                let handle = current_thread::Handle::new(tuning, spawner, local);
                (
                    Handle::new(
                        scheduler::Handle::CurrentThread(handle),
                        drivers,
                        self.name.as_deref(),
                        memory,
                    ),
                    None,
                )
            }
            flavor => {
                if self.drivers.start_paused {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "start_paused(true) needs a current-thread runtime \
                         (`Builder::new_current_thread()`): a paused clock is only \
                         deterministic with a single thread, as in tokio",
                    ));
                }
                let (drivers, mut locals) = driver::build_drivers(&self.drivers, workers, true)?;
                for local in &mut locals {
                    local.set_park_hooks(self.park_hooks.clone());
                }
                if flavor == RuntimeFlavor::MultiThread {
                    build_multi_thread(
                        locals,
                        drivers,
                        tuning,
                        spawner,
                        &spec,
                        self.name.as_deref(),
                        WorkerMemory {
                            plan: memory,
                            placement,
                        },
                    )?
                } else {
                    build_thread_per_core(
                        locals,
                        drivers,
                        tuning,
                        spawner,
                        &spec,
                        self.name.as_deref(),
                        WorkerMemory {
                            plan: memory,
                            placement,
                        },
                    )?
                }
            }
        };
        blocking.spawner().set_runtime(handle.clone());
        Ok(Runtime {
            handle,
            threads,
            blocking,
            shut_down: false,
            _config: PhantomData,
        })
    }

    fn validate(&self) -> io::Result<()> {
        let invalid = |msg: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned()));
        if self.name.as_deref() == Some("") {
            return invalid(
                "name(\"\"): a runtime's name must not be empty; pass a name, or leave it unset",
            );
        }
        if self.worker_threads == Some(0) {
            return invalid("worker_threads(0): a runtime needs at least one worker thread; pass 1 or more, or leave it unset for one per CPU");
        }
        if self.global_queue_interval == Some(0) {
            return invalid(
                "global_queue_interval(0): the interval must be at least 1 tick (default 31)",
            );
        }
        if self.event_interval == 0 {
            return invalid("event_interval(0): the interval must be at least 1 tick (default 61)");
        }
        if self.max_blocking_threads == 0 {
            return invalid(
                "max_blocking_threads(0): spawn_blocking needs at least one thread (default 512)",
            );
        }
        if self.thread_stack_size == Some(0) {
            return invalid(
                "thread_stack_size(0): a thread needs a stack; pass a size in bytes, e.g. 2 MiB",
            );
        }
        Ok(())
    }
}

/// The global-queue interval where it is not tuned (tokio's current-thread default).
const DEFAULT_GLOBAL_QUEUE_INTERVAL: u32 = 31;

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn build_multi_thread(
    locals: Vec<LocalDriver>,
    drivers: Arc<Drivers>,
    tuning: Tuning,
    blocking: super::blocking::BlockingSpawner,
    spec: &ThreadSpec,
    name: Option<&str>,
    memory: WorkerMemory,
) -> io::Result<(Handle, Option<ThreadGroup>)> {
    let WorkerMemory {
        plan: memory,
        placement,
    } = memory;
    let workers = locals.len();
    let nodes = placement
        .as_deref()
        .and_then(|p| multi_thread::numa::NodeScheduling::new(p, workers));
    let (cores, remotes) = multi_thread::worker::create(locals, tuning, nodes.as_ref());
    let shared = Arc::new(multi_thread::Handle {
        remotes: remotes.into(),
        inject: crossbeam_utils::CachePadded::new(crate::scheduler::inject::Inject::new()),
        idle: crossbeam_utils::CachePadded::new(multi_thread::Idle::new(workers)),
        owned: OwnedTasks::new(workers),
        shutdown: crate::loom::sync::atomic::AtomicBool::new(false),
        tuning,
        blocking,
        cpus: default_workers(),
        takeover: std::sync::Mutex::new(None),
        placement: placement.clone(),
        nodes,
        metrics: crate::runtime::metrics::WorkersMetrics::new(workers, tuning.poll_time_histogram),
    });
    let handle = Handle::new(
        scheduler::Handle::MultiThread(shared.clone()),
        drivers,
        name,
        memory,
    );
    let worker_list = cores
        .into_iter()
        .enumerate()
        .map(|(index, (core, driver))| multi_thread::worker::Worker {
            handle: shared.clone(),
            index,
            core,
            driver,
        })
        .collect();
    let threads = start_workers(
        &handle,
        spec,
        worker_list,
        multi_thread::worker::run,
        shared.clone(),
        placement.as_ref(),
    )?;
    *shared.takeover.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(multi_thread::worker::Takeover {
            spawner: threads.spawner(spec),
            runtime: handle.clone(),
        });
    Ok((handle, Some(threads)))
}

fn build_thread_per_core(
    locals: Vec<LocalDriver>,
    drivers: Arc<Drivers>,
    tuning: Tuning,
    blocking: super::blocking::BlockingSpawner,
    spec: &ThreadSpec,
    name: Option<&str>,
    memory: WorkerMemory,
) -> io::Result<(Handle, Option<ThreadGroup>)> {
    let WorkerMemory {
        plan: memory,
        placement,
    } = memory;
    let (shared, worker_list) = thread_per_core::Handle::new(locals, tuning, blocking);
    let handle = Handle::new(
        scheduler::Handle::ThreadPerCore(shared.clone()),
        drivers,
        name,
        memory,
    );
    let threads = start_workers(
        &handle,
        spec,
        worker_list,
        |worker| Some(thread_per_core::run(worker)),
        shared,
        placement.as_ref(),
    )?;
    Ok((handle, Some(threads)))
}

/// A runtime's memory plan and, under `NumaAware`, where its workers go.
struct WorkerMemory {
    plan: MemoryPlan,
    placement: Option<Arc<numa::Placement>>,
}

/// What `start_workers` needs from a scheduler with worker threads.
trait Threaded: Send + Sync + 'static {
    /// Tell the workers to stop (also used when a worker fails to start).
    fn begin_shutdown(&self);
    /// Cancel what is left; run once, after the last worker exited.
    fn shutdown_tasks(&self);
}

impl Threaded for multi_thread::Handle {
    fn begin_shutdown(&self) {
        multi_thread::Handle::begin_shutdown(self);
    }
    fn shutdown_tasks(&self) {
        multi_thread::Handle::shutdown_tasks(self);
    }
}

impl Threaded for thread_per_core::Handle {
    fn begin_shutdown(&self) {
        thread_per_core::Handle::begin_shutdown(self);
    }
    fn shutdown_tasks(&self) {
        thread_per_core::Handle::shutdown_tasks(self);
    }
}

/// Start one thread per worker, each with the runtime current and marked as driving
/// tasks; the last one out runs the scheduler's clean-up with the runtime current.
/// Under `NumaAware` (`placement`), each thread first pins itself to its node's CPUs,
/// before the start hook runs.
fn start_workers<W: Send + 'static>(
    handle: &Handle,
    spec: &ThreadSpec,
    workers: Vec<W>,
    run: fn(W) -> Option<LocalDriver>,
    scheduler: Arc<impl Threaded>,
    placement: Option<&Arc<numa::Placement>>,
) -> io::Result<ThreadGroup> {
    let mut group = ThreadGroup::new({
        let scheduler = scheduler.clone();
        let handle = handle.clone();
        move || {
            let _current = super::context::set_current(&handle);
            scheduler.shutdown_tasks();
        }
    });
    for (index, worker) in workers.into_iter().enumerate() {
        let runtime = handle.clone();
        let prepare = placement.map(|p| numa::prepare_worker(p.clone(), index));
        let started = group.spawn(spec, prepare, move || run_worker(&runtime, worker, run));
        if let Err(err) = started {
            scheduler.begin_shutdown();
            group.wait(None);
            return Err(err);
        }
    }
    Ok(group)
}

/// The body of a worker thread: run `worker` with the runtime current; the finisher
/// drains the driver it ends with (none for a worker that gave its driver away).
pub(crate) fn run_worker<W>(
    runtime: &Handle,
    worker: W,
    run: fn(W) -> Option<LocalDriver>,
) -> Option<super::threads::Finisher> {
    let current = super::context::set_current(runtime);
    let driving = super::context::enter_driving();
    let memory = crate::memory::enter(runtime.memory);
    let driver = run(worker);
    drop(memory);
    drop(driving);
    drop(current);
    // After the clean-up dropped every task: only this thread may submit to its ring,
    // so it cancels and waits for what they left in flight.
    driver.map(|driver| Box::new(move || driver.drain()) as super::threads::Finisher)
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A builder preset from configuration `C`'s consts and scheduler.
    pub(crate) fn from_config<C: Config>() -> Builder {
        use crate::config::{DriverChoice, MemoryChoice, SchedulerKind};
        let mut builder =
            Builder::with_flavor(C::Scheduler::FLAVOR.unwrap_or(RuntimeFlavor::MultiThread));
        if C::WORKER_THREADS > 0 {
            builder.worker_threads(C::WORKER_THREADS);
        }
        if let Some(driver) = C::Driver::CHOICE {
            builder.driver(driver);
        }
        if let Some(memory) = C::Memory::CHOICE {
            builder.memory(memory);
        }
        builder
            .thread_name(C::THREAD_NAME)
            .global_queue_interval(C::GLOBAL_QUEUE_INTERVAL)
            .event_interval(C::EVENT_INTERVAL)
            .max_blocking_threads(C::MAX_BLOCKING_THREADS);
        builder
    }
}
