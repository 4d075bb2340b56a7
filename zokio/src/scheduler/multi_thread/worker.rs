//! A worker thread of the work-stealing scheduler: its run loop, its private `Core`
//! (local queue, LIFO slot, tick counters), stealing and parking.
//!
//! The core sits in a `RefCell` in a thread-local context so that a task woken on its
//! own worker goes straight into the local queue. The loop borrows the core only for
//! short, non-reentrant steps and never while a task is polled. Nothing here may hold a
//! borrow of the core across user code.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::idle::LookAgain;
use super::{Handle, Remote};
use crate::driver::LocalDriver;
use crate::runtime::metrics::MetricsBatch;
use crate::scheduler::queue::{self, Local};
use crate::task::Notified;
use std::sync::Arc;

/// A saturated worker asks for help only with more than this many tasks queued: fewer
/// it finishes sooner than a sleeper could wake up and steal them.
const HELP_MIN_BACKLOG: usize = 4;

/// How long a worker must go without running out of tasks before the completions its
/// own driver reaps may wake another worker (`Core::should_notify_others`): long
/// enough that a worker which keeps up with its load, only in long bursts, is not
/// taken for saturated; short enough that a saturated one gets help within a few
/// milliseconds. Measured in the worker's CPU time, looked at maintenance ticks
/// (`Core::check_saturation`).
const SATURATED_AFTER: Duration = Duration::from_millis(2);

/// The share of a CPU, in percent, that a busy worker must have had since it last ran
/// dry to count as saturated. Less means it was preempted: the CPUs are taken (by the
/// process's other threads, or by anything else on the machine), and a helper woken
/// now would only take turns with it, or with whatever preempts it, holding the
/// connections it steals for whole time slices. Measured on the echo and http groups
/// at 2 workers unpinned (the load on the same 2 CPUs), two rounds: zokio/tokio
/// 1.06-1.16 -> 1.11-1.29 on every row, p99 at 64 connections 0.92 -> 0.84 of
/// tokio's, HTTP 1.53 -> 1.37.
const MIN_CPU_SHARE_PERCENT: u128 = 90;

/// Whether a worker that has not run dry for `cpu` of its own CPU time, over `wall`
/// of wall time, is saturated: busy long enough, and on a CPU of its own meanwhile.
fn is_saturated(cpu: Duration, wall: Duration) -> bool {
    cpu >= SATURATED_AFTER && cpu.as_nanos() * 100 >= wall.as_nanos() * MIN_CPU_SHARE_PERCENT
}

/// How often, in wall time, a busy worker reads its CPU clock for `SATURATED_AFTER`.
const CPU_CLOCK_EVERY: Duration = Duration::from_micros(250);

/// How many tasks in a row may run from the LIFO slot before the others get a turn:
/// two tasks waking each other forever must not starve the rest of the queue.
const MAX_LIFO_POLLS_PER_TICK: usize = 3;

/// The worker's private state.
pub(crate) struct Core {
    /// Ticks left until the global queue goes first (counting down avoids a division
    /// per tick).
    until_global_first: u32,
    /// Every this many ticks the global queue goes first; tuned to the mean poll
    /// time (`super::poll_times`) unless the builder fixed it.
    global_queue_interval: u32,
    /// What this worker counts for `RuntimeMetrics`, published at maintenance ticks
    /// and parks; also the mean poll time the interval follows.
    metrics: MetricsBatch,
    /// Ticks left until the next look for shutdown and outside events.
    until_events: u32,
    /// The task most recently woken by this worker: run next, for cache locality.
    lifo_slot: Option<Notified>,
    run_queue: Local<Notified>,
    is_searching: bool,
    /// A driver turn woke tasks into this core without waking anyone for them.
    woken_in_turn: bool,
    /// Awake only because its own ring or timers woke tasks while it slept (nobody
    /// asked it to help): it runs those and sleeps again, without stealing.
    awake_for_own_work: bool,
    /// It ran out of tasks since the last maintenance tick.
    ran_dry: bool,
    /// This thread's CPU time, and the wall time, soon after it last ran dry (`None`
    /// until the next read).
    last_dry: Option<(Duration, Instant)>,
    /// When the CPU clock was last read (`check_saturation`).
    last_cpu_read: Instant,
    /// It has not run dry for `SATURATED_AFTER`: the one signal that its own
    /// completions should wake another worker (`should_notify_others`).
    saturated: bool,
    rand: FastRand,
    /// Refills from the global queue pass through here; kept (empty) between them so
    /// that a refill allocates nothing.
    refill: Vec<Notified>,
    /// The index of this worker's NUMA node when the workers span several
    /// (`Handle::nodes`); `None` otherwise.
    node: Option<usize>,
}

/// What a worker thread is handed when it starts.
pub(crate) struct Worker {
    pub(crate) handle: Arc<Handle>,
    pub(crate) index: usize,
    pub(crate) core: Core,
    pub(crate) driver: LocalDriver,
}

struct Context {
    handle: Arc<Handle>,
    index: usize,
    core: RefCell<Core>,
    driver: LocalDriver,
    /// The core and driver went to another thread (`block_in_place`): this thread
    /// finishes the task it is polling, then leaves.
    retired: Cell<bool>,
    /// The poll-time histogram is on: every poll is timed.
    time_each_poll: bool,
}

/// What a worker needs to start a thread that takes over its core and driver when it
/// blocks in `block_in_place`.
pub(crate) struct Takeover {
    pub(crate) spawner: crate::runtime::threads::GroupSpawner,
    pub(crate) runtime: crate::runtime::Handle,
}

thread_local! {
    static CURRENT: Cell<*const Context> = const { Cell::new(ptr::null()) };
}

/// Build the per-worker pieces: private cores and the remotes others see. `nodes` is
/// the runtime's `Handle::nodes`.
pub(crate) fn create(
    drivers: Vec<LocalDriver>,
    tuning: super::Tuning,
    nodes: Option<&super::numa::NodeScheduling>,
) -> (Vec<(Core, LocalDriver)>, Vec<Remote>) {
    let num_workers = drivers.len();
    let mut cores = Vec::with_capacity(num_workers);
    let mut remotes = Vec::with_capacity(num_workers);
    for (index, driver) in drivers.into_iter().enumerate() {
        let (run_queue, steal) = queue::new();
        remotes.push(Remote {
            steal,
            unparker: driver.unparker(),
            inbox: super::inbox::Inbox::new(),
            saturated: std::sync::atomic::AtomicBool::new(false),
        });
        let node = nodes.map(|n| n.node_of(index));
        let core = Core::new(run_queue, index, tuning, node);
        cores.push((core, driver));
    }
    (cores, remotes)
}

/// On a worker thread: whether other tasks wait in its own queue (`None` on any
/// other thread, or while the worker itself holds its core).
pub(crate) fn local_work_waiting() -> Option<bool> {
    CURRENT.with(|current| {
        let ctx = current.get();
        if ctx.is_null() {
            return None;
        }
        // SAFETY: CURRENT points at the worker's live `Context` while its loop runs and
        // is reset before that context is dropped.
        let ctx = unsafe { &*ctx };
        let core = ctx.core.try_borrow().ok()?;
        Some(core.has_local_work())
    })
}

/// Schedule on the current worker if this thread is one of `handle`'s workers;
/// otherwise hand the task back for the global queue.
pub(crate) fn try_schedule_local(
    handle: &Arc<Handle>,
    task: Notified,
    is_yield: bool,
) -> Option<Notified> {
    CURRENT.with(|current| {
        let ctx = current.get();
        if ctx.is_null() {
            return Some(task);
        }
        // SAFETY: CURRENT points at the worker's live `Context` while its loop runs and
        // is reset before that context is dropped.
        let ctx = unsafe { &*ctx };
        if !Arc::ptr_eq(&ctx.handle, handle) {
            return Some(task);
        }
        // Busy only while the worker itself manipulates the core (shutdown drain).
        let Ok(mut core) = ctx.core.try_borrow_mut() else {
            return Some(task);
        };
        core.metrics.local_schedule();
        // Woken by this worker's own completions or timers: queued here without
        // waking anyone; the end of the turn decides (`notify_after_turn`).
        let should_notify = if ctx.driver.is_turning() {
            core.defer_to_turn_end(task, handle);
            false
        } else if is_yield {
            core.push_back(task, handle);
            true
        } else {
            match core.lifo_slot.replace(task) {
                Some(previous) => {
                    core.push_back(previous, handle);
                    true
                }
                None => false,
            }
        };
        drop(core);
        // Work that others could steal is waiting: let a sleeper come and take it.
        if should_notify {
            handle.notify_parked_local();
        }
        None
    })
}

impl Core {
    fn new(
        run_queue: Local<Notified>,
        index: usize,
        tuning: super::Tuning,
        node: Option<usize>,
    ) -> Core {
        Core {
            until_global_first: 1,
            global_queue_interval: tuning.global_queue_interval,
            metrics: MetricsBatch::new(
                tuning.poll_time_histogram.is_some(),
                super::poll_times::START_MEAN_NANOS,
            ),
            until_events: 1,
            lifo_slot: None,
            run_queue,
            is_searching: false,
            woken_in_turn: false,
            awake_for_own_work: false,
            ran_dry: true,
            last_dry: None,
            last_cpu_read: Instant::now(),
            saturated: false,
            rand: FastRand::new(index as u64),
            refill: Vec::with_capacity(queue::CAPACITY / 2),
            node,
        }
    }

    #[inline]
    fn push_back(&mut self, task: Notified, handle: &Handle) {
        let Core {
            run_queue,
            node,
            metrics,
            ..
        } = self;
        run_queue.push_back(task, &mut |batch| {
            metrics.overflow();
            handle.push_overflow(*node, batch);
        });
    }

    /// Steal from `victim`'s queue into ours, counting what moved.
    fn steal_from(&mut self, victim: &Remote) -> Option<Notified> {
        let before = self.run_queue.len();
        let task = victim.steal.steal_into(&mut self.run_queue)?;
        // The one handed back moved too.
        let moved = self.run_queue.len().saturating_sub(before) + 1;
        self.metrics.stole(moved as u64);
        Some(task)
    }

    fn next_local_task(&mut self) -> Option<Notified> {
        self.lifo_slot.take().or_else(|| self.run_queue.pop())
    }

    #[inline(always)]
    fn next_task(&mut self, handle: &Handle, index: usize) -> Option<Notified> {
        let inbox = &handle.remotes[index].inbox;
        if !inbox.is_empty() {
            // Through the refill buffer, which keeps its memory (as the inbox does).
            let mut batch = std::mem::take(&mut self.refill);
            inbox.take_into(&mut batch);
            for task in batch.drain(..) {
                self.push_back(task, handle);
            }
            self.refill = batch;
        }
        self.until_global_first -= 1;
        if self.until_global_first == 0 {
            self.until_global_first = self.global_queue_interval;
            // Fairness: every so often the global queue goes first, so that a worker
            // kept busy by its own tasks still serves spawns from outside.
            return handle
                .pop_injected(self.node)
                .or_else(|| self.next_local_task());
        }
        if let Some(task) = self.next_local_task() {
            return Some(task);
        }
        // On several nodes the node's own queue goes first; other nodes' queues are
        // left to `steal_work`, after this node's workers.
        if let (Some(node), Some(nodes)) = (self.node, &handle.nodes) {
            let task = self.refill_from(nodes.queue(node), nodes.workers_on(node), handle);
            if task.is_some() {
                return task;
            }
        }
        self.refill_from(&handle.inject, handle.num_workers(), handle)
    }

    /// Refill from a global queue in one batch, leaving some for the `sharers`
    /// other workers that take from it.
    fn refill_from(
        &mut self,
        inject: &crate::scheduler::inject::Inject<Notified>,
        sharers: usize,
        handle: &Handle,
    ) -> Option<Notified> {
        if inject.is_empty() {
            return None;
        }
        let fair_share = inject.len() / sharers + 1;
        let max = fair_share
            .min(self.run_queue.remaining())
            .min(queue::CAPACITY / 2);
        // Through a buffer kept for the purpose: pushing while the global queue's lock
        // is held could overflow back into it.
        let mut batch = std::mem::take(&mut self.refill);
        inject.pop_batch_into(max, &mut batch);
        let mut tasks = batch.drain(..);
        let first = tasks.next();
        for task in tasks {
            self.push_back(task, handle);
        }
        self.refill = batch;
        first
    }

    fn steal_work(&mut self, handle: &Handle, index: usize) -> Option<Notified> {
        // Awake for its own completions only: stealing from a worker that keeps up
        // would pull connections onto this ring, which would then wake this worker for
        // them; only a saturated worker's tasks are worth taking.
        let only_saturated = self.awake_for_own_work;
        if only_saturated && !handle.remotes.iter().any(|r| r.saturated.load(Relaxed)) {
            return handle.pop_injected(self.node);
        }
        if !self.transition_to_searching(handle) {
            return None;
        }
        if let Some(nodes) = &handle.nodes {
            return self.steal_by_node(handle, nodes, index, only_saturated);
        }
        let num = handle.remotes.len();
        let start = self.rand.next_below(num as u32) as usize;
        for offset in 0..num {
            let victim = (start + offset) % num;
            if victim == index
                || (only_saturated && !handle.remotes[victim].saturated.load(Relaxed))
            {
                continue;
            }
            if let Some(task) = self.steal_from(&handle.remotes[victim]) {
                return Some(task);
            }
        }
        handle.inject.pop()
    }

    /// `steal_work` on several nodes: this node's workers first, from a random
    /// start, then the other nodes' (`Placement::steal_order`); last the global
    /// queues, this node's first.
    fn steal_by_node(
        &mut self,
        handle: &Handle,
        nodes: &super::numa::NodeScheduling,
        index: usize,
        only_saturated: bool,
    ) -> Option<Notified> {
        for group in nodes.steal_order(index).groups.iter() {
            let num = group.len();
            let start = self.rand.next_below(num as u32) as usize;
            for offset in 0..num {
                let victim = group[(start + offset) % num];
                if only_saturated && !handle.remotes[victim].saturated.load(Relaxed) {
                    continue;
                }
                if let Some(task) = self.steal_from(&handle.remotes[victim]) {
                    return Some(task);
                }
            }
        }
        handle.pop_injected(self.node)
    }

    fn transition_to_searching(&mut self, handle: &Handle) -> bool {
        if !self.is_searching {
            self.is_searching = handle.idle.transition_worker_to_searching();
        }
        self.is_searching
    }

    fn transition_from_searching(&mut self, handle: &Handle) {
        if !self.is_searching {
            return;
        }
        self.is_searching = false;
        // The last searcher found work; there may be more, so wake a successor.
        if handle.idle.transition_worker_from_searching() {
            handle.notify_parked();
        }
    }

    /// At a maintenance tick: saturated if it has not run dry since the tick that
    /// last saw it do so, `SATURATED_AFTER` of this thread's CPU time ago, and had a
    /// CPU to itself meanwhile (`is_saturated`). CPU time, not wall time, for the
    /// length: preemption does not make a worker any less able to keep up. And a
    /// worker that is preempted is short of CPUs, not of workers.
    ///
    /// The thread CPU clock is a system call, too dear for every tick of tiny tasks:
    /// it is read at most every `CPU_CLOCK_EVERY` of wall time (a cheap clock).
    fn check_saturation(&mut self, remote: &Remote) {
        if std::mem::take(&mut self.ran_dry) {
            self.last_dry = None;
            self.saturated = false;
        } else {
            let wall = Instant::now();
            if wall.duration_since(self.last_cpu_read) >= CPU_CLOCK_EVERY {
                self.last_cpu_read = wall;
                let cpu = thread_cpu_time();
                match self.last_dry {
                    None => self.last_dry = Some((cpu, wall)),
                    Some((dry, dry_wall)) => {
                        self.saturated =
                            is_saturated(cpu.saturating_sub(dry), wall.duration_since(dry_wall));
                    }
                }
            }
        }
        self.publish_saturation(remote);
    }

    /// Let the others see `saturated`; stored only on a change, since stealers read
    /// this line.
    fn publish_saturation(&self, remote: &Remote) {
        if remote.saturated.load(Relaxed) != self.saturated {
            remote.saturated.store(self.saturated, Relaxed);
        }
    }

    /// Everything queued on this worker (LIFO slot first), taken out.
    /// The LIFO slot's task, then the run queue's, taken as the iterator goes.
    fn drain_local_work(&mut self) -> impl Iterator<Item = Notified> + '_ {
        let lifo = self.lifo_slot.take();
        lifo.into_iter()
            .chain(std::iter::from_fn(|| self.run_queue.pop()))
    }

    fn take_local_work(&mut self) -> Vec<Notified> {
        let mut tasks: Vec<Notified> = self.lifo_slot.take().into_iter().collect();
        while let Some(task) = self.run_queue.pop() {
            tasks.push(task);
        }
        tasks
    }

    /// A maintenance tick: fold the polls since the last one into the busy time and
    /// the mean poll time, adjust the global-queue interval to the latter (unless the
    /// builder fixed it), and publish the worker's metrics.
    fn maintain_metrics(&mut self, handle: &Handle, index: usize) {
        self.metrics.end_batch();
        if handle.tuning.tune_global_queue_interval {
            self.global_queue_interval = super::poll_times::interval(
                self.metrics.mean_poll_nanos(),
                self.global_queue_interval,
            );
        }
        self.metrics.publish(handle.metrics.worker(index), None);
    }

    fn has_local_work(&self) -> bool {
        self.lifo_slot.is_some() || !self.run_queue.is_empty()
    }

    /// A task woken during a driver turn: the most recent one is run first, as any
    /// wake on this worker, but nobody is woken for the others yet.
    fn defer_to_turn_end(&mut self, task: Notified, handle: &Handle) {
        self.woken_in_turn = true;
        if let Some(previous) = self.lifo_slot.replace(task) {
            self.push_back(previous, handle);
        }
    }

    /// After a turn, another worker is worth waking only when this one is saturated
    /// (it has not run out of tasks for `SATURATED_AFTER`) and still has more than
    /// `HELP_MIN_BACKLOG` queued, and nobody is already searching (a searcher
    /// would find the work and chain the next wake-up itself).
    ///
    /// tokio wakes for any second task. With a ring per worker that is costly: the
    /// woken worker steals connections, their operations go to its ring, and from then
    /// on that ring wakes its worker for them, so at a load one worker can carry, two
    /// rings bounce in and out of sleep. A worker that still runs dry between bursts
    /// (and then polls its ring or sleeps) is keeping up, and runs its own completions.
    fn should_notify_others(&self) -> bool {
        !self.is_searching
            && self.saturated
            && usize::from(self.lifo_slot.is_some()) + self.run_queue.len() > HELP_MIN_BACKLOG
    }
}

/// After a driver turn (or a task whose submissions reaped completions eagerly): wake
/// at most one sleeper for what the turn queued.
fn notify_after_turn(ctx: &Context) {
    let mut core = ctx.core.borrow_mut();
    if !std::mem::take(&mut core.woken_in_turn) {
        return;
    }
    // A helper beyond the CPUs the workers have would only take turns with this
    // worker on one of them, and hold the connections it steals for whole time slices.
    if core.should_notify_others() && ctx.handle.idle.awake() < ctx.handle.cpus {
        drop(core);
        ctx.handle.notify_parked_local();
    }
}

/// The body of a worker thread. Returns its driver, to be drained on this thread once
/// every task of the runtime is gone, or `None` if it gave its driver away
/// (`block_in_place`).
pub(crate) fn run(worker: Worker) -> Option<LocalDriver> {
    let Worker {
        handle,
        index,
        core,
        driver,
    } = worker;
    let ctx = Context {
        time_each_poll: handle.tuning.poll_time_histogram.is_some(),
        handle,
        index,
        core: RefCell::new(core),
        driver,
        retired: Cell::new(false),
    };
    // SAFETY: `ctx` outlives the guard, which is dropped at the end of this block,
    // before `ctx` is moved out below.
    let driver_guard = unsafe { crate::driver::context::enter(&ctx.driver) };
    CURRENT.with(|c| c.set(&ctx));
    // Reset before `ctx` goes away, even if something below unwinds.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(ptr::null()));
        }
    }
    let reset = Reset;
    run_loop(&ctx);
    if ctx.retired.get() {
        // The core and the driver's work went to the thread that took over; what is
        // left here serves nothing.
        drop(driver_guard);
        drop(reset);
        return None;
    }
    // Hand whatever is still queued here to the global queue for the final drain.
    let mut core = ctx.core.borrow_mut();
    core.metrics.end_batch();
    core.metrics
        .publish(ctx.handle.metrics.worker(ctx.index), None);
    let mut leftovers = core.take_local_work();
    leftovers.extend(ctx.handle.remotes[ctx.index].inbox.take());
    drop(core);
    ctx.handle.inject.push_batch(leftovers);
    drop(driver_guard);
    drop(reset);
    Some(ctx.driver)
}

fn run_loop(ctx: &Context) {
    let handle = &*ctx.handle;
    loop {
        if ctx.retired.get() {
            return;
        }
        // One borrow of the core for the tick and, on most ticks, the next task.
        let (maintenance, mut task) = {
            let mut core = ctx.core.borrow_mut();
            core.until_events -= 1;
            if core.until_events == 0 {
                core.until_events = handle.tuning.event_interval;
                core.check_saturation(&handle.remotes[ctx.index]);
                core.maintain_metrics(handle, ctx.index);
                (true, None)
            } else {
                (false, core.next_task(handle, ctx.index))
            }
        };
        if maintenance {
            if handle.is_shutdown() {
                return;
            }
            // A busy worker never parks, so completions and timers are looked at here.
            ctx.driver.poll();
            notify_after_turn(ctx);
            task = ctx.core.borrow_mut().next_task(handle, ctx.index);
        }
        // Completions that are already there wake tasks into our own queue. Looking
        // costs far less than searching, which would also wake another worker.
        if task.is_none() && ctx.driver.poll_if_busy() {
            notify_after_turn(ctx);
            task = ctx.core.borrow_mut().next_task(handle, ctx.index);
        }
        if task.is_none() {
            let mut core = ctx.core.borrow_mut();
            // Dry only when its own ring had nothing ready either: a worker whose
            // every empty queue is refilled at once by completions is not keeping up.
            core.ran_dry = true;
            core.saturated = false;
            task = core.steal_work(handle, ctx.index);
        }
        match task {
            Some(task) => run_task(ctx, task),
            None => {
                if handle.is_shutdown() {
                    return;
                }
                // Time asleep is neither busy time nor any task's poll time.
                ctx.core.borrow_mut().metrics.end_batch();
                park(ctx);
                ctx.core.borrow_mut().metrics.restart();
            }
        }
    }
}

fn run_task(ctx: &Context, task: Notified) {
    let handle = &*ctx.handle;
    {
        let mut core = ctx.core.borrow_mut();
        core.transition_from_searching(handle);
        core.metrics.polled();
    }
    poll(ctx, task);
    // Tasks woken by that poll wait in the LIFO slot; run a few of them right away
    // while their data is still in this core's cache.
    for _ in 0..MAX_LIFO_POLLS_PER_TICK {
        let Some(next) = after_poll(ctx) else {
            return;
        };
        ctx.core.borrow_mut().metrics.polled();
        poll(ctx, next);
    }
    let mut core = ctx.core.borrow_mut();
    if let Some(next) = core.lifo_slot.take() {
        core.push_back(next, handle);
    }
    let undecided = core.woken_in_turn;
    drop(core);
    if undecided {
        notify_after_turn(ctx);
    }
}

/// Poll a task, timing the poll only when the poll-time histogram is on (a flag
/// fixed at build time, so the untimed path carries nothing across the poll).
#[inline(always)]
fn poll(ctx: &Context, task: Notified) {
    if ctx.time_each_poll {
        poll_timed(ctx, task);
    } else {
        task.run();
    }
}

#[inline(never)]
fn poll_timed(ctx: &Context, task: Notified) {
    let started = std::time::Instant::now();
    task.run();
    MetricsBatch::poll_ended(ctx.handle.metrics.worker(ctx.index), started);
}

/// After a task's poll: decide the wake-ups of what its eager submissions reaped
/// (`notify_after_turn`, only when there were any), then take the LIFO slot, in
/// one borrow of the core on the common path.
fn after_poll(ctx: &Context) -> Option<Notified> {
    let mut core = ctx.core.borrow_mut();
    if core.woken_in_turn {
        drop(core);
        notify_after_turn(ctx);
        core = ctx.core.borrow_mut();
    }
    core.lifo_slot.take()
}

fn park(ctx: &Context) {
    let handle = &*ctx.handle;
    let inbox = &handle.remotes[ctx.index].inbox;
    {
        let mut core = ctx.core.borrow_mut();
        if core.has_local_work() || !inbox.is_empty() {
            return;
        }
        let was_searching = core.is_searching;
        core.is_searching = false;
        core.awake_for_own_work = false;
        // It ran dry to get here, so it is not saturated.
        core.publish_saturation(&handle.remotes[ctx.index]);
        // Anything queued now would otherwise wait for a wake-up that nobody is going
        // to send.
        match handle
            .idle
            .transition_worker_to_parked(ctx.index, was_searching)
        {
            LookAgain::Nowhere => {}
            LookAgain::AllQueues => handle.notify_if_work_pending(),
            LookAgain::GlobalQueue => {
                if handle.has_injected() {
                    handle.notify_parked();
                }
            }
        }
    }
    let metrics = handle.metrics.worker(ctx.index);
    loop {
        if handle.is_shutdown() {
            return;
        }
        {
            let mut core = ctx.core.borrow_mut();
            core.metrics.about_to_park();
            core.metrics.publish(metrics, None);
        }
        ctx.driver.park();
        {
            let mut core = ctx.core.borrow_mut();
            core.metrics.unparked();
            core.metrics.publish(metrics, None);
        }
        if !handle.idle.is_parked(ctx.index) {
            // `worker_to_notify` took us off the list and counted us as searching.
            ctx.core.borrow_mut().is_searching = !handle.is_shutdown();
            return;
        }
        // Only our own completions or timers woke us: at this load another worker
        // that is awake can run their tasks, and we sleep on.
        if hand_off(ctx) {
            continue;
        }
        // A completion or timer may have woken tasks into our own queue, or another
        // worker handed us some: leave the sleepers on our own. If a notifier took us
        // off the list first, it counted us as searching, as above.
        if ctx.core.borrow().has_local_work() || !inbox.is_empty() {
            let mut core = ctx.core.borrow_mut();
            if handle.idle.unpark_worker_by_id(ctx.index) {
                core.awake_for_own_work = true;
            } else {
                core.is_searching = !handle.is_shutdown();
            }
            drop(core);
            // Off the sleepers list first, so that the wake-up goes to someone else.
            notify_after_turn(ctx);
            return;
        }
    }
}

/// A parked worker whose own ring or timers woke a few tasks, while a lower-numbered
/// worker is awake and not saturated: give those tasks to that worker. Their next
/// operations then go to its ring, so at light load the connections gather on the
/// lowest awake ring and the others stay asleep, instead of every ring waking its
/// worker for a share of them. At high load no worker parks, or the receiver is
/// saturated, so nothing is handed off and every worker keeps its share. Returns
/// whether it handed anything off.
fn hand_off(ctx: &Context) -> bool {
    let handle = &*ctx.handle;
    let mut core = ctx.core.borrow_mut();
    if !core.has_local_work() || handle.is_shutdown() {
        return false;
    }
    // On several nodes, only to a worker of the same node: its memory is there.
    let same_node = |worker: usize| {
        handle
            .nodes
            .as_ref()
            .is_none_or(|n| n.node_of(worker) == n.node_of(ctx.index))
    };
    let Some(target) = handle.idle.awake_worker_below(ctx.index, same_node) else {
        return false;
    };
    let remote = &handle.remotes[target];
    if remote.saturated.load(Relaxed) {
        return false;
    }
    core.woken_in_turn = false;
    remote.inbox.push_batch(core.drain_local_work());
    drop(core);
    // The inbox protocol: push, then unpark (free unless the target is asleep in
    // its kernel wait, which it may have entered since we looked).
    remote.unparker.unpark();
    true
}

/// `block_in_place` on a worker thread of this scheduler: hand the worker's core (run
/// queue, LIFO slot, its place among the workers) and its driver's work to a new
/// thread, so that the other tasks keep running while this thread blocks. Returns
/// false, handing nothing over, when this thread is not such a worker (any more).
///
/// After this, the thread finishes polling the current task (its operations go
/// through the request queues, as any thread's) and then leaves the worker loop.
pub(crate) fn hand_off_core() -> bool {
    let ctx = CURRENT.with(Cell::get);
    if ctx.is_null() {
        return false;
    }
    // SAFETY: CURRENT points at the worker's live `Context` while its loop runs, and
    // the loop is below us on this thread's stack (we are inside a task it polls).
    let ctx = unsafe { &*ctx };
    let handle = &ctx.handle;
    let takeover = handle
        .takeover
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|t| (t.spawner.clone(), t.runtime.clone()));
    let Some((spawner, runtime)) = takeover else {
        return false; // shutting down: nobody would run the core
    };
    // The new thread waits for its worker: it must exist before anything is handed
    // over, so that a failure to start it leaves this worker as it was.
    let (send, receive) = std::sync::mpsc::channel::<Worker>();
    // The new thread takes this worker's place: on its node too.
    let prepare = handle
        .placement
        .as_ref()
        .map(|p| crate::memory::numa::prepare_worker(p.clone(), ctx.index));
    let started = spawner.spawn(prepare, move || {
        let worker = receive.recv().ok()?;
        crate::runtime::builder::run_worker(&runtime, worker, run)
    });
    if let Err(e) = started {
        log::warn!("block_in_place: no thread could take over the worker ({e}); blocking it");
        return false;
    }
    let driver = match ctx.driver.hand_over() {
        Ok(driver) => driver,
        Err(e) => {
            // Dropping `send` lets the new thread leave at once.
            log::warn!("block_in_place: no new driver for the worker ({e}); blocking it");
            return false;
        }
    };
    let (run_queue, _nobody_steals) = queue::new();
    let core = std::mem::replace(
        &mut *ctx.core.borrow_mut(),
        Core::new(
            run_queue,
            ctx.index,
            handle.tuning,
            handle.nodes.as_ref().map(|n| n.node_of(ctx.index)),
        ),
    );
    let worker = Worker {
        handle: handle.clone(),
        index: ctx.index,
        core,
        driver,
    };
    if let Err(std::sync::mpsc::SendError(worker)) = send.send(worker) {
        // The new thread died before taking it (its start hook panicked): this worker
        // keeps its core, and takes the new driver's I/O, which nobody has used yet.
        log::warn!("block_in_place: the thread taking over the worker died; blocking it");
        *ctx.core.borrow_mut() = worker.core;
        *ctx.driver.io.borrow_mut() = worker.driver.io.into_inner();
        return false;
    }
    ctx.retired.set(true);
    // From here on this thread is no worker: what the rest of the task wakes or
    // submits goes through the shared queues, and shutdown does not wait for it to
    // cancel the tasks (dropping one may be what ends the blocking closure).
    CURRENT.with(|c| c.set(ptr::null()));
    crate::driver::context::leave();
    crate::runtime::threads::leave_group();
    true
}

/// The calling thread's CPU time (zero where the clock cannot be read, which makes no
/// worker ever look saturated: the tokio-like wake-ups for work queued outside a driver
/// turn still spread the load).
#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live, writable timespec; the call only writes it.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// As the Unix version: the thread's kernel and user time, which Windows counts in
/// 100 ns units.
#[cfg(windows)]
fn thread_cpu_time() -> Duration {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{GetCurrentThread, GetThreadTimes};

    let zero = || FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero(), zero(), zero(), zero());
    // SAFETY: GetCurrentThread's pseudo handle is always valid for the calling thread,
    // and the four FILETIMEs are live and writable; the call only writes them.
    let ok = unsafe {
        GetThreadTimes(
            GetCurrentThread(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    if ok == 0 {
        return Duration::ZERO;
    }
    let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    Duration::from_nanos((ticks(kernel) + ticks(user)).saturating_mul(100))
}

/// xorshift: cheap, and plenty for picking a steal victim.
struct FastRand(u64);

impl FastRand {
    fn new(seed: u64) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_below(&mut self, n: u32) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (((x >> 32) * u64::from(n)) >> 32) as u32
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn saturated_takes_long_enough_busy_on_a_cpu_of_its_own() {
        let ms = Duration::from_millis;
        assert!(is_saturated(ms(3), ms(3)));
        assert!(is_saturated(ms(2), ms(2) + ms(2) / 10));
        // Not busy for long enough.
        assert!(!is_saturated(ms(1), ms(1)));
        // Busy long enough, but preempted for 40% of the time: the CPUs are taken.
        assert!(!is_saturated(ms(3), ms(5)));
    }
}
