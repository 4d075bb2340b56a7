//! `SignalKind`: which signal a listener waits for, with tokio's constructors, and the
//! check that refuses signals no listener can have. Nothing here touches the process's
//! signal state.

use std::io;

/// A signal a [`Signal`](super::unix::Signal) can listen for: one of the named
/// constructors, or any number with [`SignalKind::from_raw`].
///
/// A number is only checked when it is handed to [`signal`](super::unix::signal),
/// which refuses what cannot be listened for (see there).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// The signal with number `signum`, for signals without a constructor here (on
    /// Linux, the real-time ones, `libc::SIGRTMIN() + n`).
    pub const fn from_raw(signum: std::os::raw::c_int) -> Self {
        SignalKind(signum as libc::c_int)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> std::os::raw::c_int {
        self.0
    }

    /// `SIGALRM`: a real-time timer expired. Terminates the process by default.
    pub const fn alarm() -> Self {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process changed state. Ignored by default.
    pub const fn child() -> Self {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the controlling terminal went away. Terminates the process by default.
    pub const fn hangup() -> Self {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: an interrupt (Ctrl-C in a terminal). Terminates the process by default.
    pub const fn interrupt() -> Self {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`: I/O became possible on a descriptor set up for it. Ignored by default.
    pub const fn io() -> Self {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe or socket nobody reads. Terminates the process by
    /// default (Rust programs start with it ignored).
    pub const fn pipe() -> Self {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: a request to quit with a core dump (Ctrl-\\ in a terminal).
    pub const fn quit() -> Self {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a request to terminate. Terminates the process by default.
    pub const fn terminate() -> Self {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`: for the application's own use. Terminates the process by default.
    pub const fn user_defined1() -> Self {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: for the application's own use. Terminates the process by default.
    pub const fn user_defined2() -> Self {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal window changed size. Ignored by default.
    pub const fn window_change() -> Self {
        SignalKind(libc::SIGWINCH)
    }

    /// The number, if a listener may have it; else an error that says why not.
    pub(super) fn listenable(self) -> io::Result<usize> {
        let signum = self.0;
        let max = highest();
        if signum <= 0 || signum > max || signum as usize > super::registry::MAX_SIGNAL {
            return Err(refuse(format!(
                "signal number {signum} is out of range: signals on this system are numbered \
                 1 to {max}; use a `SignalKind` constructor or a number from `libc`"
            )));
        }
        let unfit = match signum {
            libc::SIGKILL | libc::SIGSTOP => Some("the kernel never lets a process catch it"),
            libc::SIGILL | libc::SIGFPE | libc::SIGSEGV => Some(
                "it reports a fault of the thread that caused it, which cannot go on running \
                 until the fault is handled, so it cannot wait for a task to notice",
            ),
            _ => None,
        };
        if let Some(why) = unfit {
            return Err(refuse(format!(
                "signal {} ({signum}) cannot be listened for: {why}; listen for another signal",
                name(signum)
            )));
        }
        #[cfg(target_os = "linux")]
        if signum < libc::SIGRTMIN() && signum > libc::SIGSYS {
            return Err(refuse(format!(
                "signal {signum} is reserved for the C library's threads; real-time signals \
                 for applications start at `libc::SIGRTMIN()` ({})",
                libc::SIGRTMIN()
            )));
        }
        Ok(signum as usize)
    }
}

/// The highest signal number of this system: `SIGRTMAX` on Linux.
#[cfg(target_os = "linux")]
fn highest() -> libc::c_int {
    libc::SIGRTMAX()
}

/// The highest signal number a listener may have here: 31. macOS has no more
/// signals; FreeBSD keeps 32 and 33 for its C library's threads and numbers its
/// real-time signals from 65, beyond the 64 a signal set of this module holds.
#[cfg(not(target_os = "linux"))]
fn highest() -> libc::c_int {
    31
}

fn refuse(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn name(signum: libc::c_int) -> &'static str {
    match signum {
        libc::SIGKILL => "SIGKILL",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGSEGV => "SIGSEGV",
        _ => "this signal",
    }
}

impl From<std::os::raw::c_int> for SignalKind {
    fn from(signum: std::os::raw::c_int) -> Self {
        SignalKind::from_raw(signum)
    }
}

impl From<SignalKind> for std::os::raw::c_int {
    fn from(kind: SignalKind) -> Self {
        kind.as_raw_value()
    }
}
