//! Unix signals, as tokio's `tokio::signal::unix`: [`signal`] makes a [`Signal`]
//! listener for a [`SignalKind`]. The machinery lives beside this file (the dispatcher
//! in `registry.rs`, the handler in `handler.rs`, the signalfd, the runtime threads'
//! masks, the reader task); this file is only the public face.

use std::io;
use std::task::{Context, Poll};

pub use super::kind::SignalKind;
use super::registry::{self, Listener};
use crate::runtime::Handle;

/// A listener for one kind of signal, made by [`signal`].
///
/// Each [`recv`](Signal::recv) completes once per delivery noticed since the previous
/// one; deliveries that arrive between two calls coalesce into one. Every listener
/// sees every delivery, whichever runtime it lives in.
///
/// While a signal has a listener, its disposition is Zokio's handler (the one it
/// replaced is still called, if it was a function); when the last listener of it is
/// dropped, the disposition it had before is put back exactly.
#[must_use = "a Signal only listens while it is kept"]
#[derive(Debug)]
pub struct Signal {
    listener: Listener,
}

/// Listen for `kind` on the current runtime.
///
/// Everything is in place when this returns: a signal raised after it returned is
/// seen by the next [`Signal::recv`]; deliveries before it are not.
///
/// What changes in the process while the signal has a listener:
/// - its disposition is Zokio's handler, which also calls the handler it replaced if
///   that was a function;
/// - unless it replaced such a function, the threads a Zokio runtime started
///   (workers, blocking-pool threads) block it, so a signal sent to one of them is
///   read from a signalfd instead of interrupting it. Signals sent to the process
///   (`kill`, a terminal's Ctrl-C, `SIGCHLD`) reach every listener whatever thread
///   the kernel picks. A signal aimed at one runtime thread in particular
///   (`pthread_kill`, or a `SIGPIPE` raised by a write on that thread) is different:
///   the kernel hands it only to a signalfd read made on that very thread, so it is
///   seen when this runtime's reader task next runs there (at once on a runtime with
///   one worker; on a thread-per-core worker that does not run the reader, not while
///   the signal is listened for). A thread the runtime did not
///   start (the main thread, a thread running a current-thread `block_on`, your own
///   threads) never has its mask changed. A thread spawned with `std::thread` from a
///   task inherits its worker's mask, as every thread inherits its creator's; a child
///   process started with `std::process::Command` does not (the standard library
///   clears the mask in the child).
///
/// Masks and the signalfd are Linux's. On other systems (macOS, the BSDs) no
/// thread's mask is changed: every delivery runs Zokio's handler on whatever thread
/// the kernel picks, and reaches every listener from there.
///
/// # Errors
/// - Outside a Zokio runtime (tokio panics there instead): call it from a task, from
///   `Runtime::block_on`, or after `Runtime::enter`.
/// - A signal no listener can have: `SIGKILL` and `SIGSTOP` (never caught), `SIGILL`,
///   `SIGFPE` and `SIGSEGV` (faults of the thread itself), a number out of range
///   (at most 0, or above `SIGRTMAX` on Linux and 31 elsewhere), or one the C library
///   keeps for its threads.
/// - The OS refusing a descriptor or a `sigaction` (for example, no file descriptor
///   left).
///
/// # Examples
///
/// Reloading a configuration on every `SIGHUP`, for as long as the program runs: the
/// listener lives across the loop, so no delivery is missed between two `recv`s
/// (deliveries that arrive together are seen as one).
///
/// ```no_run
/// use zokio::signal::unix::{signal, SignalKind};
///
/// # async fn reload() {}
/// # async fn demo() -> std::io::Result<()> {
/// let mut hangups = signal(SignalKind::hangup())?;
/// while hangups.recv().await.is_some() {
///     reload().await;
/// }
/// # Ok(())
/// # }
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.listenable()?;
    let handle = Handle::try_current().map_err(|err| {
        io::Error::other(format!(
            "zokio::signal::unix::signal needs a Zokio runtime: it was {err}"
        ))
    })?;
    Ok(Signal {
        listener: registry::register(signum, &handle)?,
    })
}

impl Signal {
    /// Wait for the next delivery.
    ///
    /// Returns `None` once the runtime this listener was made on has shut down: no
    /// delivery is counted for it any more.
    ///
    /// # Cancel safety
    /// Cancel safe: a delivery a dropped `recv` did not report is reported by the next.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll for the next delivery: `Ready(Some(()))` when one happened since the last
    /// one reported, `Ready(None)` once this listener's runtime has shut down, and
    /// `Pending` otherwise, with `cx`'s waker kept to be woken by the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.listener.poll_recv(cx)
    }
}
