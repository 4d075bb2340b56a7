//! The signal masks of the threads a runtime started (workers, blocking-pool threads):
//! they block every signal with a listener (except those chained to a handler of the
//! program's own, see `registry.rs`), so that a signal sent to one of them waits
//! for the signalfd instead of running a handler there. No other thread's mask is ever
//! changed: not the main thread, not a thread running a current-thread `block_on`, not
//! a user's own thread.
//!
//! A process-wide epoch changes whenever the set of listened signals does; a runtime
//! thread brings its mask up to date when it starts and before it parks, at the cost
//! of one relaxed load and a comparison. A thread busy running tasks may lag behind a
//! change; that loses nothing, because a signal it does not block yet goes to the
//! handler, and one it still blocks after the last listener went is taken off its
//! pending set (and counted, if a listener came back) when it catches up.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};

use super::registry::{self, bit, MAX_SIGNAL};

/// The signals runtime threads block: bit `n - 1` for signal `n`.
static WANTED: AtomicU64 = AtomicU64::new(0);
/// Changes after every change of `WANTED`.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// What `SYNCED` holds on a thread no runtime started.
const NOT_A_RUNTIME_THREAD: u64 = u64::MAX;

thread_local! {
    /// The epoch this thread's mask matches, or `NOT_A_RUNTIME_THREAD`.
    static SYNCED: Cell<u64> = const { Cell::new(NOT_A_RUNTIME_THREAD) };
    /// The signals this module blocked on this thread (not those blocked before).
    static BLOCKED_BY_US: Cell<u64> = const { Cell::new(0) };
}

/// A signal set holding the signals of `bits`.
pub(super) fn sigset(bits: u64) -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `sigemptyset` initialises the whole set.
    let mut set = unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    };
    for signum in registry::signals_of(bits) {
        // SAFETY: `set` is an initialised set; an invalid number only fails.
        unsafe { libc::sigaddset(&mut set, signum as libc::c_int) };
    }
    set
}

/// Publish a new set of listened signals (only where signalfd takes them: Linux). Runtime threads pick it up on their own;
/// the caller runs `resync` for its own thread once it holds no lock.
#[cfg(target_os = "linux")]
pub(super) fn set_wanted(bits: u64) {
    WANTED.store(bits, Ordering::SeqCst);
    EPOCH.fetch_add(1, Ordering::SeqCst);
}

/// Called on each thread a runtime starts, before anything else runs on it.
pub(crate) fn runtime_thread_started() {
    // Any value but the current epoch makes the next check sync.
    let _ = SYNCED.try_with(|s| s.set(EPOCH.load(Ordering::Relaxed).wrapping_sub(1)));
    resync();
}

/// Bring this thread's mask up to date if it is a runtime thread and the listened
/// signals changed since it last looked. The check is one relaxed load.
#[inline]
pub(crate) fn resync() {
    if stale() {
        sync_now();
    }
}

/// Whether this is a runtime thread whose mask lags behind the listened signals.
#[inline]
pub(crate) fn stale() -> bool {
    match SYNCED.try_with(Cell::get) {
        Ok(synced) => synced != NOT_A_RUNTIME_THREAD && synced != EPOCH.load(Ordering::Relaxed),
        Err(_) => false,
    }
}

#[cold]
fn sync_now() {
    // Epoch first: a change racing with us leaves the epoch ahead, so we look again.
    let epoch = EPOCH.load(Ordering::SeqCst);
    let wanted = WANTED.load(Ordering::SeqCst);
    let ours = BLOCKED_BY_US.get();
    let block = wanted & !ours;
    let unblock = ours & !wanted;
    let mut now_ours = ours;
    if block != 0 {
        let set = sigset(block);
        let mut before = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: `set` is a valid set; `before` is valid for writes of one set.
        if unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, before.as_mut_ptr()) } == 0 {
            // SAFETY: filled by the successful call.
            let before = unsafe { before.assume_init() };
            // Signals blocked before stay the thread's own business.
            now_ours |= block & !bits_of(&before);
        }
    }
    if unblock != 0 {
        let counted = take_pending(unblock);
        let set = sigset(unblock);
        // SAFETY: `set` is a valid set; a null old set is allowed.
        if unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) } == 0 {
            now_ours &= !unblock;
        }
        // A listener may have come back for one of them meanwhile.
        let still_wanted = counted & WANTED.load(Ordering::SeqCst);
        if still_wanted != 0 {
            super::handler::note_pending(still_wanted);
        }
    }
    BLOCKED_BY_US.set(now_ours);
    SYNCED.set(epoch);
}

/// Take every signal of `bits` pending for this thread or the process off the pending
/// set, so that unblocking them (or restoring their disposition) does not hand a
/// signal that arrived while it was listened for to the disposition it had before.
/// Returns which ones were pending.
#[cfg(target_os = "linux")]
pub(super) fn take_pending(bits: u64) -> u64 {
    let set = sigset(bits);
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut taken = 0;
    loop {
        // SAFETY: `set` and `zero` are valid; a null info pointer is allowed.
        let signum = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
        if signum <= 0 || signum as usize > MAX_SIGNAL {
            return taken;
        }
        taken |= bit(signum as usize);
    }
}

/// Without signalfd no runtime thread blocks a listened signal (`WANTED` stays
/// empty), so none of ours waits in a pending set: nothing to take. (macOS has no
/// `sigtimedwait` either.)
#[cfg(not(target_os = "linux"))]
pub(super) fn take_pending(_bits: u64) -> u64 {
    0
}

fn bits_of(set: &libc::sigset_t) -> u64 {
    (1..=MAX_SIGNAL).fold(0, |bits, signum| {
        // SAFETY: `set` is an initialised signal set.
        if unsafe { libc::sigismember(set, signum as libc::c_int) } == 1 {
            bits | bit(signum)
        } else {
            bits
        }
    })
}
