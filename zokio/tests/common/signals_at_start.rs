//! An opt-in for runs under ThreadSanitizer: with `ZOKIO_TEST_BLOCK_SIGNALS_AT_START`
//! set, asynchronous signals are blocked in the main thread before the test harness
//! starts, so every thread of the test binary inherits the block and a process-directed
//! signal waits in the process's pending set, where the runtime's signalfd takes it.
//!
//! Why: the sanitizer's own handler takes every signal and runs the test's handler
//! later, at the thread's next call into one of its interceptors, unless the thread
//! sits in a call it knows to block (LLVM issue 83844). A thread waiting on a futex
//! with no timeout (a `Mutex` held by another test, a `park`, a runtime's `block_on`,
//! a `join`) makes no such call: the kernel restarts that wait after the handler, and
//! the signal stays with the sanitizer until the thread wakes for another reason. A
//! test waiting for that signal then failed after its guard, about one CI run in two.
//! Plain runs never set the variable; there the handler path is what is tested.
//! Linux only (the CI step that sets it).

#![cfg(target_os = "linux")]

/// The variable that turns the block on (any value).
const VARIABLE: &std::ffi::CStr = c"ZOKIO_TEST_BLOCK_SIGNALS_AT_START";

/// The signals it blocks: all but the synchronous ones, which the kernel sends to the
/// thread that caused them (a fault, which cannot wait; `SIGPIPE`, which `net_sigpipe`'s
/// control child must die of), and `SIGKILL` and `SIGSTOP`, which nobody can block.
fn is_asynchronous(signum: libc::c_int) -> bool {
    ![
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
        libc::SIGPIPE,
    ]
    .contains(&signum)
}

/// Run by the loader before `main`, so before the harness starts any thread.
extern "C" fn block_signals_at_start() {
    // SAFETY: getenv with a NUL-terminated name; the environment is set up before any
    // constructor runs and no other thread exists yet to change it.
    if unsafe { libc::getenv(VARIABLE.as_ptr()) }.is_null() {
        return;
    }
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `sigemptyset` initialises the whole set; `sigaddset` and
    // `pthread_sigmask` get that valid set (glibc leaves out its own internal signals).
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        for signum in (1..=libc::SIGRTMAX()).filter(|&s| is_asynchronous(s)) {
            libc::sigaddset(set.as_mut_ptr(), signum);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
    }
}

#[used]
#[link_section = ".init_array"]
static BLOCK_SIGNALS_AT_START: extern "C" fn() = block_signals_at_start;

/// Whether this run blocks `signum` in every thread from the start (see the module
/// doc): what a thread's mask holds when nothing of Zokio changed it.
pub fn blocked_at_start(signum: libc::c_int) -> bool {
    std::env::var_os("ZOKIO_TEST_BLOCK_SIGNALS_AT_START").is_some() && is_asynchronous(signum)
}
