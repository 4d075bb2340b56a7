//! Asynchronous signal handling, with tokio's `tokio::signal` API: [`ctrl_c`] on every
//! platform; on Unix, `unix`, a listener for any signal; on Windows, `windows`,
//! listeners for the console's control events (Ctrl-C, Ctrl-Break, the console window
//! closing, the user logging off, the system shutting down). Each platform's module
//! exists only there: `unix` is not compiled on Windows, nor `windows` on Unix.
//!
//! Every platform shares the dispatcher (`registry.rs`): per signal (on Windows, per
//! console event), a count of deliveries and the wakers of the listeners waiting, in
//! every runtime; and per runtime with a listener, a reader task whose end (with its
//! runtime) ends that runtime's listeners. What listening changes in the process is
//! the platform layer's, `os_unix.rs` or `os_windows.rs`.
//!
//! Unix: while a signal has a listener, a `sigaction` handler (`handler.rs`) marks it
//! pending and writes to an eventfd, and (unless the handler it replaced was the
//! program's own) the threads the runtime started block it (`mask.rs`) so that what is
//! sent to them waits in a signalfd (`signalfd.rs`). In each runtime with a listener,
//! the reader task (`reader.rs`) waits for both through the runtime's driver, reads
//! them, and counts the deliveries in the dispatcher, which wakes every listener in
//! every runtime. Systems without signalfd (macOS, the BSDs) take the handler's path
//! alone: the handler writes to a self-pipe instead of an eventfd, and no thread's
//! mask is changed. This module must never change the mask of a thread no runtime
//! started, and its handler must never do anything that is not async-signal-safe.
//!
//! Windows: one console control handler (`SetConsoleCtrlHandler`), installed with the
//! first listener and kept for the life of the process, runs on a thread the system
//! starts for each event; it counts the event in the dispatcher and wakes the
//! listeners from there, and tells the system whether the event was taken: only
//! while the event has a listener, so that without one the process's other handlers
//! and the default one (which ends the process) act as if Zokio's did not exist. The
//! runtime threads' signal masks do not exist there; their hooks do nothing.

#[cfg(unix)]
mod handler;
#[cfg(unix)]
mod kind;
#[cfg(unix)]
mod mask;
#[cfg(unix)]
#[path = "os_unix.rs"]
mod os;
#[cfg(windows)]
#[path = "os_windows.rs"]
mod os;
#[cfg(unix)]
mod reader;
mod registry;
// signalfd is Linux's: elsewhere every delivery arrives through the handler.
#[cfg(target_os = "linux")]
mod signalfd;
#[cfg(unix)]
pub mod unix;
#[cfg(windows)]
pub mod windows;

#[cfg(unix)]
pub(crate) use mask::{
    resync as resync_runtime_thread_mask, runtime_thread_started,
    stale as runtime_thread_mask_stale,
};
#[cfg(windows)]
pub(crate) use os::{
    resync_runtime_thread_mask, runtime_thread_mask_stale, runtime_thread_started,
};

use std::io;
#[cfg(unix)]
use std::os::fd::RawFd;
#[cfg(unix)]
use std::sync::OnceLock;

/// One of the module's process-wide descriptors, made by `make` (a system call
/// returning the descriptor or -1) on first use and never closed, since readers in
/// any runtime may wait on it at any time. A failure is remembered (its errno), so
/// every later listener gets the same answer without retrying.
#[cfg(unix)]
fn descriptor_made_once(
    cell: &'static OnceLock<Result<RawFd, i32>>,
    what: &str,
    make: impl FnOnce() -> RawFd,
) -> io::Result<RawFd> {
    let made = cell.get_or_init(|| {
        let fd = make();
        if fd < 0 {
            Err(io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO))
        } else {
            Ok(fd)
        }
    });
    made.map_err(|code| {
        let os = io::Error::from_raw_os_error(code);
        io::Error::new(
            os.kind(),
            format!(
                "zokio::signal could not create its {what} ({os}); free a file descriptor \
                 (see `ulimit -n`) and try again"
            ),
        )
    })
}

/// Wait for a Ctrl-C: `SIGINT` on Unix, the console's `CTRL_C_EVENT` on Windows.
///
/// The listener is made when the returned future is first polled, and a Ctrl-C
/// counts from then on; while it listens, Ctrl-C no longer ends the process. When the
/// future completes or is dropped, the listener goes (unless another listener of
/// Ctrl-C lives), and a later Ctrl-C ends the process again. To handle every Ctrl-C,
/// keep a listener instead: `unix::signal(SignalKind::interrupt())` on Unix,
/// `windows::ctrl_c()` on Windows.
///
/// On Unix the previous disposition of `SIGINT` is put back exactly. On Windows,
/// Zokio's console handler stays installed but declines the events nobody listens
/// for, so the next handler (the program's own, or the default one) takes them.
///
/// # Errors
/// Outside a Zokio runtime, or when the OS refuses what listening needs (see
/// `unix::signal` or `windows::ctrl_c`). Also when the runtime shuts down before a
/// Ctrl-C arrives.
///
/// # Examples
///
/// A server that stops accepting on Ctrl-C and then finishes its work:
///
/// ```no_run
/// # #[zokio::main]
/// # async fn main() -> std::io::Result<()> {
/// let listener = zokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// // One future for the whole loop: it listens from its first poll until it completes.
/// let shutdown = zokio::signal::ctrl_c();
/// zokio::pin!(shutdown);
/// loop {
///     zokio::select! {
///         accepted = listener.accept() => {
///             let (stream, _) = accepted?;
///             zokio::spawn(async move { drop(stream) });
///         }
///         done = &mut shutdown => {
///             done?;
///             break;
///         }
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    #[cfg(unix)]
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    #[cfg(windows)]
    let mut interrupt = windows::ctrl_c()?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "zokio::signal::ctrl_c: the runtime shut down before a Ctrl-C arrived",
        )),
    }
}
