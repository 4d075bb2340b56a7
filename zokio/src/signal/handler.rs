//! The `sigaction` safety net: while a signal has a listener, a handler of ours marks it
//! pending in a static bitset and writes to one process-wide eventfd (a non-blocking
//! self-pipe on systems without eventfd), which the readers watch; the disposition it replaced is kept and put back exactly when the last
//! listener goes.
//!
//! The kernel hands a process-directed signal to any thread that does not block it
//! (the main thread, a test thread, a user's thread), so this handler is how most
//! deliveries arrive. It runs in signal context and must stay async-signal-safe: no
//! allocation, no lock, no logging; only atomics, `write(2)`, and a call to the
//! handler it replaced (chaining), with `errno` saved and restored around all of it.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::registry::{bit, MAX_SIGNAL};

/// Signals the handler saw and no reader has counted yet: bit `n - 1` for signal `n`.
static PENDING: AtomicU64 = AtomicU64::new(0);

/// The eventfd (or the self-pipe's write end) the handler writes to; -1 until the
/// first listener creates it.
static EVENT_FD: AtomicI32 = AtomicI32::new(-1);

/// The handler each of our handlers replaced, for chaining, readable from signal
/// context: `sa_sigaction` and `sa_flags` of the saved `sigaction`.
static CHAINED: [AtomicUsize; MAX_SIGNAL + 1] = [const { AtomicUsize::new(0) }; MAX_SIGNAL + 1];
static CHAINED_FLAGS: [AtomicI32; MAX_SIGNAL + 1] = [const { AtomicI32::new(0) }; MAX_SIGNAL + 1];

/// A disposition our handler replaced, to put back when the last listener goes.
pub(super) struct Saved(libc::sigaction);

impl Saved {
    /// Whether the replaced disposition was a function our handler calls on (which
    /// decides whether the signalfd takes the signal: Linux only).
    #[cfg(target_os = "linux")]
    pub(super) fn chains(&self) -> bool {
        self.0.sa_sigaction != libc::SIG_DFL && self.0.sa_sigaction != libc::SIG_IGN
    }
}

// SAFETY: a `sigaction` is plain data (a function address, a flag word, a signal set);
// nothing in it refers to the thread that read it.
unsafe impl Send for Saved {}

/// The process-wide eventfd (non-blocking, close-on-exec), made on first use and
/// never closed: readers in any runtime may be waiting on it at any time.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn event_fd() -> io::Result<RawFd> {
    static FD: OnceLock<Result<RawFd, i32>> = OnceLock::new();
    super::descriptor_made_once(&FD, "eventfd", || {
        // SAFETY: eventfd takes no pointers; the flags are valid.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd >= 0 {
            EVENT_FD.store(fd, Ordering::Release);
        }
        fd
    })
}

/// Without eventfd (macOS, the BSDs): the read end of a process-wide pipe, both ends
/// non-blocking and close-on-exec, made on first use and never closed. The handler
/// writes to the other end; a full pipe means the readers are due to wake anyway.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn event_fd() -> io::Result<RawFd> {
    static FD: OnceLock<Result<RawFd, i32>> = OnceLock::new();
    super::descriptor_made_once(&FD, "self-pipe", || {
        let mut ends = [-1 as RawFd; 2];
        // SAFETY: `ends` has room for the two descriptors `pipe` writes.
        if unsafe { libc::pipe(ends.as_mut_ptr()) } != 0 {
            return -1;
        }
        if let Err(code) = ends.iter().try_for_each(|&fd| set_nonblocking_cloexec(fd)) {
            for fd in ends {
                // SAFETY: both ends are ours, made just above and shared with nobody.
                unsafe { libc::close(fd) };
            }
            // SAFETY: this thread's errno, always valid to write; the caller reads
            // the failure from it.
            unsafe { *errno_location() = code };
            return -1;
        }
        EVENT_FD.store(ends[1], Ordering::Release);
        ends[0]
    })
}

/// Make `fd` non-blocking and close-on-exec; the errno on failure.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_nonblocking_cloexec(fd: RawFd) -> Result<(), i32> {
    let errno = || {
        io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
    };
    // SAFETY: fcntl on a descriptor we own only reads or sets its flags.
    unsafe {
        let status = libc::fcntl(fd, libc::F_GETFL);
        if status < 0 || libc::fcntl(fd, libc::F_SETFL, status | libc::O_NONBLOCK) < 0 {
            return Err(errno());
        }
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) < 0 {
            return Err(errno());
        }
    }
    Ok(())
}

/// This thread's `errno`. Async-signal-safe: it only returns an address.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: no preconditions; the address is this thread's errno.
    unsafe { libc::__errno_location() }
}

/// This thread's `errno`. Async-signal-safe: it only returns an address.
#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: no preconditions; the address is this thread's errno.
    unsafe { libc::__errno() }
}

/// This thread's `errno`. Async-signal-safe: it only returns an address.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: no preconditions; the address is this thread's errno.
    unsafe { libc::__error() }
}

/// Mark `bits` pending and wake a reader, as the handler does: for signals taken off a
/// thread outside any handler, counted by a reader later instead of here, so that no
/// task is woken from inside a worker's park.
pub(super) fn note_pending(bits: u64) {
    PENDING.fetch_or(bits, Ordering::AcqRel);
    notify_readers();
}

/// Write to the eventfd or the self-pipe (async-signal-safe). A full counter or pipe
/// (EAGAIN) is fine: the readers are due to wake anyway.
fn notify_readers() {
    let fd = EVENT_FD.load(Ordering::Acquire);
    if fd >= 0 {
        let one: u64 = 1;
        // SAFETY: `one` is 8 readable bytes; the fd is the eventfd, never closed.
        let _ = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }
}

/// Take the signals the handler marked since the last call.
pub(super) fn take_pending() -> u64 {
    PENDING.swap(0, Ordering::AcqRel)
}

/// Install our handler for `signum`, returning the disposition it replaced.
pub(super) fn install(signum: usize) -> io::Result<Saved> {
    let mut previous = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: a null new action only reads the current one into `previous`, which
    // is valid for writes of one `sigaction`.
    if unsafe {
        libc::sigaction(
            signum as libc::c_int,
            std::ptr::null(),
            previous.as_mut_ptr(),
        )
    } != 0
    {
        return Err(os_error("read the disposition of", signum));
    }
    // SAFETY: `sigaction` succeeded and filled it.
    let previous = unsafe { previous.assume_init() };
    // Chain to it from the moment ours is in place.
    remember(signum, &previous);

    // SAFETY: all-zero is a valid `sigaction` (no handler, no flags, an empty mask).
    let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
    ours.sa_sigaction = on_signal as *const () as usize;
    ours.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
    // SAFETY: `ours.sa_mask` is a valid signal set to empty.
    unsafe { libc::sigemptyset(&mut ours.sa_mask) };
    let mut replaced = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: both pointers are valid for one `sigaction`; `on_signal` has the
    // three-argument form that `SA_SIGINFO` announces.
    if unsafe { libc::sigaction(signum as libc::c_int, &ours, replaced.as_mut_ptr()) } != 0 {
        forget(signum);
        return Err(os_error("install a handler for", signum));
    }
    // SAFETY: `sigaction` succeeded and filled it.
    let replaced = unsafe { replaced.assume_init() };
    // Someone may have changed it between our two calls: keep what we really replaced.
    remember(signum, &replaced);
    Ok(Saved(replaced))
}

/// Put back the disposition `install` replaced.
pub(super) fn restore(signum: usize, saved: Saved) -> io::Result<()> {
    // SAFETY: `saved.0` is a `sigaction` the kernel gave us, so valid to hand back.
    let result = unsafe { libc::sigaction(signum as libc::c_int, &saved.0, std::ptr::null_mut()) };
    if result != 0 {
        return Err(os_error("restore the disposition of", signum));
    }
    forget(signum);
    Ok(())
}

fn remember(signum: usize, action: &libc::sigaction) {
    CHAINED_FLAGS[signum].store(action.sa_flags, Ordering::Relaxed);
    CHAINED[signum].store(action.sa_sigaction, Ordering::Release);
}

fn forget(signum: usize) {
    CHAINED[signum].store(libc::SIG_DFL, Ordering::Release);
}

fn os_error(what: &str, signum: usize) -> io::Error {
    let os = io::Error::last_os_error();
    io::Error::new(
        os.kind(),
        format!("zokio::signal could not {what} signal {signum}: {os}"),
    )
}

/// The handler. Async-signal-safe: atomics, `write(2)`, the chained handler.
extern "C" fn on_signal(
    signum: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: `errno_location` returns this thread's errno, always valid to read.
    let errno = unsafe { *errno_location() };
    if signum > 0 && signum as usize <= MAX_SIGNAL {
        let signum = signum as usize;
        PENDING.fetch_or(bit(signum), Ordering::AcqRel);
        notify_readers();
        let chained = CHAINED[signum].load(Ordering::Acquire);
        if chained != libc::SIG_DFL && chained != libc::SIG_IGN {
            let flags = CHAINED_FLAGS[signum].load(Ordering::Relaxed);
            if flags & libc::SA_SIGINFO != 0 {
                // SAFETY: with `SA_SIGINFO` the address is the three-argument handler
                // that was installed, and our arguments are the kernel's.
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(chained) };
                handler(signum as libc::c_int, info, context);
            } else {
                // SAFETY: without `SA_SIGINFO` the address is a one-argument handler.
                let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(chained) };
                handler(signum as libc::c_int);
            }
        }
    }
    // SAFETY: as above; putting errno back hides our `write` from interrupted code.
    unsafe { *errno_location() = errno };
}
