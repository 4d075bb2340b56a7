//! The io_uring driver: one ring per worker, set up as single issuer where the kernel
//! allows it (and then entered by an index registered with its thread, `enter.rs`),
//! parked in `io_uring_enter` with the next timer deadline as timeout, and woken
//! through a multishot poll on the driver's eventfd, armed once for the ring's life.
//!
//! Every in-flight operation sits in `inflight` (a slab of cell pointers), so shutdown
//! can cancel each one and wait for its completion before anything is freed. Entries
//! that do not fit in a full submission queue are never dropped: the queue is flushed
//! to the kernel and the push retried. This file must never free an operation's cell
//! itself: completion goes through `op::cell::complete`.

mod enter;
pub(crate) mod probe;

use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use enter::{Enter, Wait};

use super::counters::DriverCounters;
use super::op::cell::{self, OpHeader};
use super::shared::DriverShared;
use std::sync::Arc;

/// Submission queue entries per ring; the completion queue is twice that.
const ENTRIES: u32 = 256;
/// `user_data` of the multishot poll on the eventfd that wakes a parked ring.
const WAKE: u64 = 0;
/// `user_data` of entries whose completion means nothing to us (cancels).
const IGNORE: u64 = 1;
/// How long shutdown waits for cancelled operations before leaking them instead.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

pub(crate) struct UringDriver {
    ring: IoUring,
    enter: Enter,
    /// Set up disabled: enabled by the first thread that parks (the issuer).
    needs_enable: bool,
    inflight: Vec<Option<NonNull<OpHeader>>>,
    free_slots: Vec<u32>,
    inflight_count: usize,
    wake_fd: RawFd,
    /// The multishot poll on `wake_fd` is in the kernel: every later write to the
    /// eventfd posts a completion, with no re-arming and no read to empty it.
    wake_armed: bool,
    /// Being retired (`retire`): cancelled operations complete as `MIGRATED`.
    migrating: bool,
    counters: Arc<DriverCounters>,
}

// SAFETY: the driver is built on one thread and then moved, once, to the worker that
// owns it for life; the cell pointers it holds are co-owned by it (see `op::cell`),
// not borrowed from the thread that built it.
unsafe impl Send for UringDriver {}

/// The cheaper kernel modes a ring may be set up with, most wanted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Modes {
    /// `SINGLE_ISSUER`: only the worker that enables the ring submits to it.
    pub(crate) single_issuer: bool,
    /// `DEFER_TASKRUN`: the kernel finishes completions only when the worker enters
    /// the ring to wait or reap, in one batch, instead of interrupting it for each.
    pub(crate) defer_taskrun: bool,
    /// `COOP_TASKRUN` with `TASKRUN_FLAG`: no interrupt for completion work; the
    /// kernel raises a flag in the ring instead.
    pub(crate) coop_taskrun: bool,
}

/// Set a ring up, trying the cheaper kernel modes first and dropping each flag the
/// kernel refuses with EINVAL (older kernels, or seccomp filters that only allow
/// plain rings). Other errors (ENOSYS, EPERM, ENOMEM) mean io_uring is unusable here
/// and are returned as they are. Returns the ring and the modes it got; a single
/// issuer ring is set up disabled, for its worker to enable on its own thread.
pub(crate) fn new_ring(single_issuer: bool) -> io::Result<(IoUring, Modes)> {
    let mut attempts: Vec<Modes> = Vec::new();
    if single_issuer {
        for defer_taskrun in [true, false] {
            attempts.push(Modes {
                single_issuer: true,
                defer_taskrun,
                coop_taskrun: true,
            });
        }
    }
    for coop_taskrun in [true, false] {
        attempts.push(Modes {
            single_issuer: false,
            defer_taskrun: false,
            coop_taskrun,
        });
    }
    let mut last = None;
    for modes in attempts {
        let mut builder = IoUring::builder();
        builder.setup_cqsize(ENTRIES * 2);
        if modes.single_issuer {
            builder.setup_single_issuer().setup_r_disabled();
        }
        if modes.defer_taskrun {
            builder.setup_defer_taskrun();
        }
        if modes.coop_taskrun {
            builder.setup_coop_taskrun().setup_taskrun_flag();
        }
        match builder.build(ENTRIES) {
            Ok(ring) => {
                if !ring.params().is_feature_ext_arg() {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "this kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11 or later \
                         is needed)",
                    ));
                }
                probe::record(&ring);
                log_modes_once(modes);
                return Ok((ring, modes));
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EINVAL)))
}

/// Say at debug level, once per process, how worker rings are entered.
fn log_registration_once(enter: &Enter) {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Relaxed) {
        log::debug!(
            "io_uring worker rings entered by a registered index: {}",
            enter.is_registered()
        );
    }
}

/// Say at debug level which modes the kernel granted, once per process and kind of
/// ring (the answer does not change while it runs).
fn log_modes_once(modes: Modes) {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    static SAID: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
    if !SAID[usize::from(modes.single_issuer)].swap(true, Relaxed) {
        log::debug!("io_uring ring set up with {modes:?}");
    }
}

impl UringDriver {
    pub(crate) fn new(ring: IoUring, needs_enable: bool, shared: &DriverShared) -> UringDriver {
        UringDriver {
            enter: Enter::new(&ring),
            ring,
            needs_enable,
            inflight: Vec::new(),
            free_slots: Vec::new(),
            inflight_count: 0,
            wake_fd: shared.wake_fd(),
            wake_armed: false,
            migrating: false,
            counters: shared.counters.clone(),
        }
    }

    /// Enable a ring set up disabled; it then accepts submissions from this thread
    /// only, so it is also registered with this thread (see `enter.rs`).
    fn enable(&mut self) {
        if self.needs_enable {
            self.needs_enable = false;
            if let Err(e) = self.ring.submitter().register_enable_rings() {
                log::error!("enabling the io_uring ring failed: {e}");
            }
            self.enter.register_with_this_thread();
            log_registration_once(&self.enter);
        }
    }

    /// Enter the ring: submit what is queued and, per `wait`, wait. The completion
    /// work the kernel holds back for us (`TASKRUN`, an overflowed completion queue)
    /// is run even when we do not wait.
    fn enter(&mut self, wait: Option<Wait>) -> io::Result<u32> {
        let (to_submit, get) = {
            let sq = self.ring.submission();
            (sq.len() as u32, sq.taskrun() || sq.cq_overflow())
        };
        self.counters.ring_enter();
        self.enter.enter(to_submit, wait, get)
    }

    /// Arm the wake-up poll if it is not in the kernel: once, then again only if the
    /// kernel ended it (a full completion queue ends a multishot request).
    fn arm_wake(&mut self) {
        if !self.wake_armed {
            let entry = opcode::PollAdd::new(types::Fd(self.wake_fd), libc::POLLIN as u32)
                .multi(true)
                .build()
                .user_data(WAKE);
            self.push(entry);
            self.wake_armed = true;
        }
    }

    pub(crate) fn submit(&mut self, header: NonNull<OpHeader>) {
        self.enable();
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.inflight[slot as usize] = Some(header);
                slot
            }
            None => {
                self.inflight.push(Some(header));
                (self.inflight.len() - 1) as u32
            }
        };
        // SAFETY: the cell was just handed to this driver and is not complete.
        unsafe { header.as_ref() }.slot.set(slot);
        // SAFETY: as above.
        let entry = unsafe { cell::uring_entry(header) }.user_data(header.as_ptr() as u64);
        self.inflight_count += 1;
        self.counters.set_in_flight(self.inflight_count);
        self.push(entry);
    }

    /// Ask the kernel to cancel an operation of ours that is still in flight.
    pub(crate) fn cancel(&mut self, header: NonNull<OpHeader>) {
        self.queue_cancel(header);
        // Hand it to the kernel now rather than at the next park: until then the
        // operation may still complete and consume data its dropped future never sees.
        self.flush();
    }

    fn queue_cancel(&mut self, header: NonNull<OpHeader>) {
        let entry = opcode::AsyncCancel::new(header.as_ptr() as u64)
            .build()
            .user_data(IGNORE);
        self.push(entry);
    }

    fn push(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: every pointer in the entry points into a cell this driver holds
            // until the completion arrives (a poll or cancel entry points at nothing).
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                self.counters.submitted(1);
                return;
            }
            // Full: hand what is queued to the kernel, then try again.
            self.flush();
        }
    }

    fn flush(&mut self) {
        loop {
            match self.enter(None) {
                Ok(_) => return,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                // The completion queue is full (EBUSY) or the kernel is short of memory
                // (EAGAIN): make room by reaping, then retry.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN)) => {
                    self.reap();
                }
                Err(e) => {
                    log::error!("io_uring submit failed: {e}; retrying at the next park");
                    return;
                }
            }
        }
    }

    /// Submit what is queued and wait up to `timeout` (`None`: no limit) for at least
    /// one completion or a wake-up. Returns how many operations completed.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> usize {
        self.enable();
        self.arm_wake();
        match self.enter(Some(Wait { timeout })) {
            Ok(_) => {}
            Err(e) => match e.raw_os_error() {
                // Timed out, interrupted, or completions waiting to be reaped.
                Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN) => {}
                _ => log::error!("io_uring wait failed: {e}"),
            },
        }
        self.reap()
    }

    /// Submit what is queued and reap what is done, without waiting.
    pub(crate) fn poll(&mut self) -> usize {
        let needs_enter = {
            let sq = self.ring.submission();
            // With cooperative task running the kernel may hold completions back until
            // we enter it; it says so through the TASKRUN flag.
            !sq.is_empty() || sq.taskrun() || sq.cq_overflow()
        };
        if needs_enter {
            self.flush();
        }
        self.reap()
    }

    /// Whether anything is in flight or waiting to be submitted.
    pub(crate) fn is_busy(&mut self) -> bool {
        self.inflight_count > 0 || !self.ring.submission().is_empty()
    }

    fn reap(&mut self) -> usize {
        let mut completed = 0;
        let UringDriver {
            ring,
            inflight,
            free_slots,
            inflight_count,
            wake_armed,
            migrating,
            counters,
            ..
        } = self;
        let mut cq = ring.completion();
        counters.completed(cq.len() as u64);
        for cqe in &mut cq {
            match cqe.user_data() {
                // Still armed while the kernel says more will come.
                WAKE => *wake_armed = cqueue::more(cqe.flags()),
                IGNORE => {}
                ptr => {
                    let Some(header) = NonNull::new(ptr as *mut OpHeader) else {
                        continue;
                    };
                    // SAFETY: `ptr` is the user data of an entry we submitted for this
                    // cell, which stays alive until we complete it just below.
                    let slot = unsafe { header.as_ref() }.slot.get();
                    inflight[slot as usize] = None;
                    free_slots.push(slot);
                    *inflight_count -= 1;
                    let mut result = cqe.result();
                    // Cancelled (or interrupted, for work the kernel had started) only
                    // because the ring is being retired: the future submits it again.
                    if *migrating && (result == -libc::ECANCELED || result == -libc::EINTR) {
                        result = super::op::MIGRATED;
                    }
                    // SAFETY: each operation yields one completion (no multishot entries),
                    // so this is the one and only completion of the cell.
                    unsafe { cell::complete(header, result) };
                    completed += 1;
                }
            }
        }
        if completed > 0 {
            counters.set_in_flight(*inflight_count);
        }
        completed
    }

    /// Shutdown, once the request queue is closed: cancel everything in flight and
    /// wait for the kernel to be done with every buffer. What does not finish within
    /// the limit is leaked, never freed.
    pub(crate) fn drain(&mut self) {
        self.cancel_everything();
        self.enter.unregister();
    }

    /// `block_in_place` retires this ring for a new one on another thread (a ring
    /// submits from one thread only): cancel what is in flight, each operation
    /// completing as `MIGRATED` unless it finished first, so that its future submits
    /// it again to the driver that serves it now.
    pub(crate) fn retire(&mut self) {
        self.migrating = true;
        self.cancel_everything();
        self.enter.unregister();
    }

    /// Cancel every operation and the wake-up poll, and wait for the kernel to be done
    /// with every buffer. What does not finish within the limit is leaked, never freed.
    fn cancel_everything(&mut self) {
        let live: Vec<NonNull<OpHeader>> = self.inflight.iter().flatten().copied().collect();
        for header in live {
            self.queue_cancel(header);
        }
        if self.wake_armed {
            let entry = opcode::AsyncCancel::new(WAKE).build().user_data(IGNORE);
            self.push(entry);
        }
        let deadline = Instant::now() + DRAIN_LIMIT;
        while self.inflight_count > 0 || self.wake_armed {
            let now = Instant::now();
            if now >= deadline {
                log::error!(
                    "shutdown: {} io_uring operations did not finish within {DRAIN_LIMIT:?}; \
                     their buffers are leaked rather than freed while the kernel may use them",
                    self.inflight_count
                );
                return;
            }
            // Not `park`: that would re-arm the wake-up poll.
            let _ = self.enter(Some(Wait {
                timeout: Some((deadline - now).min(Duration::from_millis(100))),
            }));
            self.reap();
        }
    }
}

impl Drop for UringDriver {
    fn drop(&mut self) {
        // A ring dropped without draining (a runtime that failed to start) on the
        // thread that registered it: leave nothing registered behind.
        self.enter.unregister();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the kernel takes `DEFER_TASKRUN` (6.1 and later), a worker's ring gets
    /// it; where it does not, the ring still comes up, without it.
    #[test]
    fn a_worker_ring_gets_deferred_task_running_where_the_kernel_has_it() {
        let Ok((_, modes)) = new_ring(true) else {
            return; // no io_uring here
        };
        assert!(modes.single_issuer);
        let kernel_has_it = IoUring::<squeue::Entry>::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_r_disabled()
            .build(2)
            .is_ok();
        assert_eq!(modes.defer_taskrun, kernel_has_it);
        let (_, shared_modes) = new_ring(false).expect("a plain ring after a worker ring");
        assert!(!shared_modes.single_issuer && !shared_modes.defer_taskrun);
    }

    /// A worker's ring: registered with its thread where the kernel can (5.18), and
    /// woken through one multishot poll, armed once however often it sleeps. Each of
    /// 100 wake-ups from another thread ends one park (a lost one would leave the park
    /// waiting out its long timeout, and the count of completions short).
    #[test]
    fn one_wake_up_poll_serves_every_park_of_a_registered_ring() {
        let Ok((ring, modes)) = new_ring(true) else {
            return; // no io_uring here
        };
        let shared = DriverShared::new(crate::driver::DriverKind::IoUring).unwrap();
        let mut driver = UringDriver::new(ring, modes.single_issuer, &shared);

        const WAKES: u64 = 100;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let waker = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for () in rx {
                    shared.unpark();
                }
            })
        };
        let before = shared.counters.snapshot();
        for _ in 0..WAKES {
            assert!(shared.begin_park(), "no wake-up is pending before the park");
            tx.send(()).unwrap();
            driver.park(Some(Duration::from_secs(60)));
            shared.end_park();
        }
        drop(tx);
        waker.join().unwrap();
        let spent = shared.counters.snapshot() - before;
        let registration_probe = IoUring::<squeue::Entry>::new(2).unwrap();
        let mut plain = Enter::new(&registration_probe);
        plain.register_with_this_thread();
        assert_eq!(driver.enter.is_registered(), plain.is_registered());
        plain.unregister();
        assert_eq!(spent.wake_writes, WAKES);
        assert_eq!(spent.kernel_calls, WAKES, "one enter per park");
        assert_eq!(spent.submitted, 1, "the wake-up poll was armed once");
        assert!(spent.completed >= WAKES, "every park ended with a wake-up");
        driver.drain();
        assert!(!driver.wake_armed, "the drain cancelled the poll");
        assert!(!driver.enter.is_registered(), "and undid the registration");
    }
}
