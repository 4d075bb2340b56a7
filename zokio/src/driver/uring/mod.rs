//! The io_uring driver: one ring per worker, set up as single issuer where the kernel
//! allows it, parked in `submit_and_wait` with the next timer deadline as timeout and
//! woken through a read of the driver's eventfd that is always armed on the ring.
//!
//! Every in-flight operation sits in `inflight` (a slab of cell pointers), so shutdown
//! can cancel each one and wait for its completion before anything is freed. Entries
//! that do not fit in a full submission queue are never dropped: the queue is flushed
//! to the kernel and the push retried. This file must never free an operation's cell
//! itself: completion goes through `op::cell::complete`.

pub(crate) mod probe;

use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types, IoUring};

use super::counters::DriverCounters;
use super::op::cell::{self, OpHeader};
use super::shared::DriverShared;
use std::sync::Arc;

/// Submission queue entries per ring; the completion queue is twice that.
const ENTRIES: u32 = 256;
/// `user_data` of the eventfd read that wakes a parked ring.
const WAKE: u64 = 0;
/// `user_data` of entries whose completion means nothing to us (cancels).
const IGNORE: u64 = 1;
/// How long shutdown waits for cancelled operations before leaking them instead.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

pub(crate) struct UringDriver {
    ring: IoUring,
    /// Set up disabled: enabled by the first thread that parks (the issuer).
    needs_enable: bool,
    inflight: Vec<Option<NonNull<OpHeader>>>,
    free_slots: Vec<u32>,
    inflight_count: usize,
    wake_fd: RawFd,
    /// Where the armed eventfd read writes; boxed so the address never moves.
    wake_buf: Box<u64>,
    wake_armed: bool,
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
            ring,
            needs_enable,
            inflight: Vec::new(),
            free_slots: Vec::new(),
            inflight_count: 0,
            wake_fd: shared.wake_fd(),
            wake_buf: Box::new(0),
            wake_armed: false,
            counters: shared.counters.clone(),
        }
    }

    /// Enable a ring set up disabled; it then accepts submissions from this thread only.
    fn enable(&mut self) {
        if self.needs_enable {
            self.needs_enable = false;
            if let Err(e) = self.ring.submitter().register_enable_rings() {
                log::error!("enabling the io_uring ring failed: {e}");
            }
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
            // until the completion arrives (or into `wake_buf`, kept while armed).
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
            self.counters.kernel_call();
            match self.ring.submit() {
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
        if !self.wake_armed {
            let entry = opcode::Read::new(
                types::Fd(self.wake_fd),
                (&mut *self.wake_buf as *mut u64).cast(),
                8,
            )
            .build()
            .user_data(WAKE);
            self.push(entry);
            self.wake_armed = true;
        }
        self.counters.kernel_call();
        let result = match timeout {
            Some(timeout) => {
                let ts = types::Timespec::from(timeout);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)
            }
            None => self.ring.submitter().submit_and_wait(1),
        };
        match result {
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
            counters,
            ..
        } = self;
        let mut cq = ring.completion();
        counters.completed(cq.len() as u64);
        for cqe in &mut cq {
            match cqe.user_data() {
                WAKE => *wake_armed = false,
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
                    // SAFETY: each operation yields one completion (no multishot entries),
                    // so this is the one and only completion of the cell.
                    unsafe { cell::complete(header, cqe.result()) };
                    completed += 1;
                }
            }
        }
        completed
    }

    /// Shutdown, once the request queue is closed: cancel everything in flight and
    /// wait for the kernel to be done with every buffer. What does not finish within
    /// the limit is leaked, never freed.
    pub(crate) fn drain(&mut self) {
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
                if self.wake_armed {
                    std::mem::forget(std::mem::replace(&mut self.wake_buf, Box::new(0)));
                }
                return;
            }
            // Not `park`: that would re-arm the wake-up read.
            let ts = types::Timespec::from((deadline - now).min(Duration::from_millis(100)));
            let args = types::SubmitArgs::new().timespec(&ts);
            self.counters.kernel_call();
            let _ = self.ring.submitter().submit_with_args(1, &args);
            self.reap();
        }
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
}
