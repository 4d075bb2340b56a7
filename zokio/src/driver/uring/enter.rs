//! Entering a ring: the `io_uring_enter(2)` system call, made here rather than through
//! the `io-uring` crate's `Submitter`, which cannot keep a ring *registered* with its
//! issuer thread (`IORING_REGISTER_RING_FDS`, Linux 5.18) from one call to the next.
//! A registered ring is named by its index in that thread's table, and the kernel
//! skips the look-up (and reference count) of the ring's file on every call.
//!
//! Registration is tried, never assumed: where the kernel refuses it, the ring is
//! entered by its descriptor. This file only makes the call; what to submit and how
//! long to wait is `mod.rs`'s.
//!
//! Measured and left out: a minimum wait (`min_wait_usec`, `IORING_FEAT_MIN_TIMEOUT`,
//! Linux 6.12) that lets a parked worker gather a batch of completions. At 100 µs it
//! cut `io_uring_enter` calls per echo round trip by up to five times, but neither
//! throughput nor CPU per round trip moved beyond noise, and the 2-worker p99 grew.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// `IORING_ENTER_GETEVENTS`: wait for (or at least run the work of) completions.
const GETEVENTS: u32 = 1 << 0;
/// `IORING_ENTER_EXT_ARG`: the argument is a `GeteventsArg`.
const EXT_ARG: u32 = 1 << 3;
/// `IORING_ENTER_REGISTERED_RING`: the descriptor is a registered index.
const REGISTERED_RING: u32 = 1 << 4;
/// `IORING_REGISTER_RING_FDS` and its undoing.
const REGISTER_RING_FDS: libc::c_uint = 20;
const UNREGISTER_RING_FDS: libc::c_uint = 21;

/// `struct io_uring_getevents_arg` (`min_wait_usec` was padding before Linux 6.12,
/// and must then be zero).
#[repr(C)]
struct GeteventsArg {
    sigmask: u64,
    sigmask_sz: u32,
    min_wait_usec: u32,
    ts: u64,
}

/// `struct io_uring_rsrc_update`, to register the ring's descriptor.
#[repr(C)]
struct RsrcUpdate {
    offset: u32,
    resv: u32,
    data: u64,
}

/// A wait for at least one completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wait {
    /// Give up after this long with none (`None`: no limit).
    pub(crate) timeout: Option<Duration>,
}

/// The descriptor a ring is entered by, and what its kernel lets the call carry.
pub(crate) struct Enter {
    fd: RawFd,
    /// The index the issuer thread registered the ring under.
    registered: Option<u32>,
    /// The thread that registered it (`this_thread`): only its calls may use the
    /// index, which on any other thread names a slot of that thread's own table.
    registered_by: usize,
}

impl Enter {
    pub(crate) fn new(ring: &io_uring::IoUring) -> Enter {
        use std::os::fd::AsRawFd;
        Enter {
            fd: ring.as_raw_fd(),
            registered: None,
            registered_by: 0,
        }
    }

    /// Whether the ring is entered by a registered index.
    pub(crate) fn is_registered(&self) -> bool {
        self.registered.is_some()
    }

    /// On the ring's one issuer thread (a single-issuer ring, once enabled): register
    /// the ring's descriptor with this thread. A kernel that refuses (before 5.18)
    /// leaves the plain descriptor in use, which is only a little dearer.
    pub(crate) fn register_with_this_thread(&mut self) {
        if self.registered.is_some() {
            return;
        }
        let mut update = RsrcUpdate {
            // Any free slot.
            offset: u32::MAX,
            resv: 0,
            data: self.fd as u64,
        };
        // SAFETY: registers one `io_uring_rsrc_update` that lives across the call; the
        // kernel writes the slot it chose into `offset`.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_io_uring_register,
                self.fd,
                REGISTER_RING_FDS,
                &mut update as *mut RsrcUpdate,
                1u32,
            )
        };
        if rc == 1 {
            self.registered = Some(update.offset);
            self.registered_by = this_thread();
        } else {
            log::debug!(
                "io_uring: registering the ring's descriptor failed ({}); entering it by \
                 descriptor",
                io::Error::last_os_error()
            );
        }
    }

    /// Submit `to_submit` queued entries and, with `GETEVENTS` in `get`, wait as `wait`
    /// says (`None`: only run the completion work that is due, without waiting).
    pub(crate) fn enter(&self, to_submit: u32, wait: Option<Wait>, get: bool) -> io::Result<u32> {
        let mut flags = if get || wait.is_some() { GETEVENTS } else { 0 };
        let mut want = 0;
        let ts;
        let mut arg = None;
        if let Some(wait) = wait {
            want = 1;
            if let Some(t) = wait.timeout {
                ts = crate::driver::timespec(t);
                arg = Some(GeteventsArg {
                    sigmask: 0,
                    sigmask_sz: 0,
                    min_wait_usec: 0,
                    ts: &ts as *const libc::timespec as u64,
                });
                flags |= EXT_ARG;
            }
        }
        let (fd, flags) = match self.registered {
            Some(index) if self.registered_by == this_thread() => {
                (index as RawFd, flags | REGISTERED_RING)
            }
            _ => (self.fd, flags),
        };
        let (arg_ptr, arg_size) = match &arg {
            Some(a) => (a as *const GeteventsArg as usize, size_of::<GeteventsArg>()),
            None => (0, 0),
        };
        // SAFETY: `arg`, and the timespec it points at, live across the call; the
        // kernel only reads them. `fd` is the ring's descriptor, or the index this
        // very thread registered it under.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_io_uring_enter,
                fd,
                to_submit,
                want,
                flags,
                arg_ptr,
                arg_size,
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc as u32)
        }
    }

    /// Undo the registration, on the thread that made it (elsewhere there is nothing
    /// to undo that this thread could reach: the table is the registering thread's,
    /// and goes with it).
    pub(crate) fn unregister(&mut self) {
        let Some(index) = self.registered.take() else {
            return;
        };
        if std::mem::take(&mut self.registered_by) != this_thread() {
            return;
        }
        let update = RsrcUpdate {
            offset: index,
            resv: 0,
            data: 0,
        };
        // SAFETY: reads one `io_uring_rsrc_update` that lives across the call.
        unsafe {
            libc::syscall(
                libc::SYS_io_uring_register,
                self.fd,
                UNREGISTER_RING_FDS,
                &update as *const RsrcUpdate,
                1u32,
            )
        };
    }
}

/// A cheap name for the calling thread, unique among the threads alive: the address
/// of a thread-local. (Not `thread::current().id()`, which costs a reference count
/// on every call.) The registration is undone when the driver drains on its thread,
/// before that thread can exit and a later one take the same address.
fn this_thread() -> usize {
    thread_local! {
        static MARK: u8 = const { 0 };
    }
    MARK.with(|mark| mark as *const u8 as usize)
}
