//! A worker's own driver: its I/O driver, its timer wheel, and its shared part, with
//! the one park routine every scheduler calls when it has nothing to run.
//!
//! `park` first takes what other threads handed over, then sleeps in the I/O driver
//! until a completion, a wake-up or the next timer deadline, then fires due timers.
//! With a paused clock it never sleeps while a timer is pending: it moves the clock to
//! that timer instead (auto-advance), which makes timer tests instant and exact.
//! Nothing here may run a task; completions only wake them.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use super::op::cell;
use super::shared::{DriverShared, Request};
use super::DriverKind;
use crate::time::driver::TimeDriver;

// One per worker, built once and never moved after the worker starts: the size gap
// between the variants costs nothing worth a box (and its pointer chase per operation).
#[allow(clippy::large_enum_variant)]
pub(crate) enum IoDriver {
    #[cfg(target_os = "linux")]
    Uring(super::uring::UringDriver),
    /// epoll, kqueue or poll(2).
    #[cfg(unix)]
    Readiness(super::readiness::ReadinessDriver),
    #[cfg(windows)]
    Iocp(super::iocp::IocpDriver),
}

pub(crate) struct LocalDriver {
    pub(crate) io: RefCell<IoDriver>,
    pub(crate) shared: Arc<DriverShared>,
    pub(crate) time: Arc<TimeDriver>,
    /// Reused buffer for requests from other threads.
    requests: RefCell<Vec<Request>>,
    /// Eager submissions since the last full turn (see `poll_eager`).
    eager_since_turn: std::cell::Cell<u32>,
    /// Set while completions or timers may be waking tasks from inside this driver,
    /// so that a scheduler can batch the wake-ups of one turn (see `is_turning`).
    turning: std::cell::Cell<bool>,
    /// The builder's `on_thread_park` / `on_thread_unpark`, run around each sleep.
    park_hooks: ParkHooks,
}

/// A hook run on a runtime thread (`Builder::on_thread_park` and the like).
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// What runs before a driver sleeps and after it wakes.
#[derive(Clone, Default)]
pub(crate) struct ParkHooks {
    pub(crate) before: Option<Hook>,
    pub(crate) after: Option<Hook>,
}

/// Marks the driver as turning for as long as it lives, even if a waker unwinds.
struct Turning<'a>(&'a std::cell::Cell<bool>, bool);

impl<'a> Turning<'a> {
    fn enter(flag: &'a std::cell::Cell<bool>) -> Turning<'a> {
        Turning(flag, flag.replace(true))
    }
}

impl Drop for Turning<'_> {
    fn drop(&mut self) {
        self.0.set(self.1);
    }
}

/// Whether a driver with nothing in flight sleeps on a futex instead of its kernel
/// wait (Linux only: elsewhere it waits in its driver, woken through its wake-up
/// source).
const QUIET_PARK: bool = cfg!(target_os = "linux");

/// How many eager submissions may pass between two full turns (requests, due
/// timers): a busy worker's default `event_interval`, so a task that never has to
/// wait delays timers no more than a busy worker does.
const EAGER_TURN_EVERY: u32 = 61;

/// How much of the request queue `handle_requests` applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Batch {
    One,
    All,
}

impl IoDriver {
    pub(crate) fn submit(&mut self, header: std::ptr::NonNull<super::op::cell::OpHeader>) {
        match self {
            #[cfg(target_os = "linux")]
            IoDriver::Uring(d) => d.submit(header),
            #[cfg(unix)]
            IoDriver::Readiness(d) => d.submit(header),
            #[cfg(windows)]
            IoDriver::Iocp(d) => d.submit(header),
        }
    }

    pub(crate) fn cancel(&mut self, header: std::ptr::NonNull<super::op::cell::OpHeader>) {
        match self {
            #[cfg(target_os = "linux")]
            IoDriver::Uring(d) => d.cancel(header),
            #[cfg(unix)]
            IoDriver::Readiness(d) => d.cancel(header),
            #[cfg(windows)]
            IoDriver::Iocp(d) => d.cancel(header),
        }
    }

    /// Apply one request from another thread, the same way for both drivers.
    fn handle(&mut self, request: Request) {
        match request {
            Request::Submit(header) => self.submit(header),
            Request::Cancel(header) => {
                // SAFETY: a queued cancel keeps its cell alive until this call, which is
                // made once, on this driver's thread.
                if unsafe { cell::take_cancel_request(header) } {
                    self.cancel(header);
                }
            }
        }
    }

    fn wait(&mut self, shared: &DriverShared, timeout: Option<Duration>) -> usize {
        match self {
            #[cfg(target_os = "linux")]
            IoDriver::Uring(d) => {
                if timeout == Some(Duration::ZERO) {
                    d.poll()
                } else {
                    d.park(timeout)
                }
            }
            #[cfg(unix)]
            IoDriver::Readiness(d) => d.park(shared, timeout),
            #[cfg(windows)]
            IoDriver::Iocp(d) => {
                let _ = shared;
                d.park(timeout)
            }
        }
    }

    fn is_busy(&mut self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            IoDriver::Uring(d) => d.is_busy(),
            #[cfg(unix)]
            IoDriver::Readiness(d) => d.is_busy(),
            #[cfg(windows)]
            IoDriver::Iocp(d) => d.is_busy(),
        }
    }

    /// Shutdown: refuse new requests, settle the queued ones, then let the driver
    /// cancel and wait out what it has in flight.
    fn drain(&mut self, shared: &DriverShared) {
        for request in shared.close() {
            match request {
                // Never reached the driver: complete it as cancelled.
                // SAFETY: the cell was handed to this driver and never completed.
                Request::Submit(header) => unsafe { cell::complete(header, -super::op::CANCELED) },
                cancel => self.handle(cancel),
            }
        }
        match self {
            #[cfg(target_os = "linux")]
            IoDriver::Uring(d) => d.drain(),
            #[cfg(unix)]
            IoDriver::Readiness(d) => d.drain(),
            #[cfg(windows)]
            IoDriver::Iocp(d) => d.drain(),
        }
    }
}

impl LocalDriver {
    pub(crate) fn new(io: IoDriver, shared: Arc<DriverShared>, time: Arc<TimeDriver>) -> Self {
        LocalDriver {
            io: RefCell::new(io),
            shared,
            time,
            requests: RefCell::new(Vec::new()),
            eager_since_turn: std::cell::Cell::new(0),
            turning: std::cell::Cell::new(false),
            park_hooks: ParkHooks::default(),
        }
    }

    /// Run these hooks around every sleep of this driver.
    pub(crate) fn set_park_hooks(&mut self, hooks: ParkHooks) {
        self.park_hooks = hooks;
    }

    /// For an operation submitted eagerly from a task: submit and reap without
    /// waiting, and every `EAGER_TURN_EVERY` calls make a full turn instead, so that
    /// requests from other threads and due timers are not held off by a task whose
    /// operations all complete during their submission (what they wake lands in the
    /// run queue, and that task's next operation then yields).
    pub(crate) fn poll_eager(&self) {
        let n = self.eager_since_turn.get() + 1;
        if n >= EAGER_TURN_EVERY {
            self.eager_since_turn.set(0);
            self.turn(false, None);
            return;
        }
        self.eager_since_turn.set(n);
        if let Ok(mut io) = self.io.try_borrow_mut() {
            let _turning = Turning::enter(&self.turning);
            io.wait(&self.shared, Some(Duration::ZERO));
        }
    }

    /// Whether this driver is reaping completions or firing timers right now: the
    /// tasks they wake are all known once the turn ends, so the scheduler decides
    /// then, once, whether another worker is needed.
    pub(crate) fn is_turning(&self) -> bool {
        self.turning.get()
    }

    pub(crate) fn kind(&self) -> DriverKind {
        self.shared.kind
    }

    pub(crate) fn unparker(&self) -> super::Unparker {
        super::Unparker::new(self.shared.clone())
    }

    /// Sleep until there may be something to do: a completion, a wake-up, or a timer.
    pub(crate) fn park(&self) {
        // One relaxed load unless the signals `zokio::signal` listens for changed.
        crate::signal::resync_runtime_thread_mask();
        if let Some(hook) = &self.park_hooks.before {
            hook();
        }
        // A pooled thread with spare memory sleeps at most a short while, and gives
        // the memory back if nothing woke it meanwhile.
        crate::memory::idle_trim(|limit| self.turn(true, limit));
        if let Some(hook) = &self.park_hooks.after {
            hook();
        }
    }

    /// Look for completions and due timers without sleeping (a busy worker's check).
    pub(crate) fn poll(&self) {
        self.turn(false, None);
    }

    /// A worker ran out of tasks: if operations are in flight, look for completions
    /// without sleeping (io_uring completes many at submission), which is far cheaper
    /// than going idle. Returns whether it looked.
    pub(crate) fn poll_if_busy(&self) -> bool {
        let busy = match self.io.try_borrow_mut() {
            Ok(mut io) => io.is_busy(),
            Err(_) => false,
        };
        if busy {
            self.turn(false, None);
        }
        busy
    }

    /// One turn; sleeping, if `may_sleep`, until an event, the next timer or `limit`.
    fn turn(&self, may_sleep: bool, limit: Option<Duration>) {
        // A completion's waker that drops another operation can land here again; the
        // outer turn finishes the work, so the inner one has nothing to add.
        let Ok(mut io) = self.io.try_borrow_mut() else {
            return;
        };
        let _turning = Turning::enter(&self.turning);
        let handled_requests = self.handle_requests(&mut io, Batch::One);
        // A request may have completed an operation on the spot (epoll cancels do),
        // waking a task into this worker's own queue, which no unpark announces:
        // look, but do not sleep.
        if !may_sleep || handled_requests {
            io.wait(&self.shared, Some(Duration::ZERO));
            drop(io);
            self.time.process();
            return;
        }
        let paused = self.time.clock().is_paused();
        if paused {
            let completed = io.wait(&self.shared, Some(Duration::ZERO));
            drop(io);
            let fired = self.time.process();
            if completed > 0 || fired > 0 || self.shared.take_notification() {
                return;
            }
            // Nothing can happen before the next timer except through another thread,
            // so jump to it instead of waiting.
            if self.time.auto_advance() {
                self.time.process();
                return;
            }
            let Ok(again) = self.io.try_borrow_mut() else {
                return;
            };
            io = again;
        }
        // On a paused clock a timer's remaining time means nothing in real time: sleep
        // until woken (auto-advance was held off, or there is no timer at all).
        let timeout = match (self.time.park_timeout().filter(|_| !paused), limit) {
            (Some(timer), Some(limit)) => Some(timer.min(limit)),
            (timer, limit) => timer.or(limit),
        };
        if timeout == Some(Duration::ZERO) {
            io.wait(&self.shared, Some(Duration::ZERO));
        } else if QUIET_PARK && !io.is_busy() {
            // Nothing in flight: no completion or readiness can come, only another
            // thread's wake-up or the timer, and a futex is cheaper to be woken from
            // than the kernel wait. A cross-thread wake of an idle worker measured
            // 9.3 -> 8.5 µs at the median on io_uring, 10.1 -> 8.5 µs on epoll
            // (`cross_thread_wake`; tokio's: 9.2 µs).
            #[cfg(target_os = "linux")]
            self.shared.park_quiet(timeout);
        } else if self.shared.begin_park() {
            io.wait(&self.shared, timeout);
            self.shared.end_park();
        } else {
            io.wait(&self.shared, Some(Duration::ZERO));
        }
        drop(io);
        self.time.process();
    }

    /// Apply what other threads handed over, one batch (`Batch::One`: a turn, which
    /// leaves the rest for the next so that a flood cannot starve this worker's tasks)
    /// or all of it; true if there was anything.
    pub(crate) fn handle_requests(&self, io: &mut IoDriver, batch: Batch) -> bool {
        let Ok(mut requests) = self.requests.try_borrow_mut() else {
            return false;
        };
        let limit = match batch {
            Batch::One => super::request_queue::BATCH,
            Batch::All => usize::MAX,
        };
        self.shared.take_requests(&mut requests, limit);
        let handled = !requests.is_empty();
        for request in requests.drain(..) {
            io.handle(request);
        }
        handled
    }

    /// Shutdown, on the owning thread, after every task is gone: cancel what is in
    /// flight and wait until the kernel is done with every buffer; fire no more timers.
    /// `block_in_place`: give this worker's I/O and timers to another thread. The
    /// driver returned keeps this one's shared part (so every unparker, request queue
    /// and counter stays valid) and timer wheel, and takes its I/O: on a readiness driver the same
    /// instance, which any thread may wait on; on io_uring a new ring, because a ring
    /// takes submissions from one thread only; the old one's operations are cancelled
    /// first and submitted again by their futures (`op::MIGRATED`). This driver is
    /// left serving nothing, and its thread must not turn it again.
    pub(crate) fn hand_over(&self) -> std::io::Result<LocalDriver> {
        let mut io = self
            .io
            .try_borrow_mut()
            .map_err(|_| std::io::Error::other("the driver is in use on this thread"))?;
        // Cancels queued for this ring's operations must reach it before it retires.
        self.handle_requests(&mut io, Batch::All);
        let taken = match &mut *io {
            #[cfg(target_os = "linux")]
            IoDriver::Uring(old) => {
                let (ring, modes) = super::uring::new_ring(true)?;
                let new = super::uring::UringDriver::new(ring, modes.single_issuer, &self.shared);
                old.retire();
                IoDriver::Uring(new)
            }
            #[cfg(unix)]
            IoDriver::Readiness(_) => {
                let idle = super::readiness::ReadinessDriver::new(&self.shared)?;
                std::mem::replace(&mut *io, IoDriver::Readiness(idle))
            }
            #[cfg(windows)]
            IoDriver::Iocp(_) => {
                let idle = super::iocp::IocpDriver::new(&self.shared);
                std::mem::replace(&mut *io, IoDriver::Iocp(idle))
            }
        };
        Ok(LocalDriver::new(
            taken,
            self.shared.clone(),
            self.time.clone(),
        ))
    }

    pub(crate) fn drain(&self) {
        self.time.shutdown();
        match self.io.try_borrow_mut() {
            Ok(mut io) => io.drain(&self.shared),
            Err(_) => log::error!("driver drained while in use; in-flight operations leak"),
        }
    }
}
