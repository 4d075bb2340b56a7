//! Asynchronous signal handling, with tokio's `tokio::signal` API: [`ctrl_c`] and, in
//! [`unix`], a listener for any signal.
//!
//! Not yet available on Windows: Ctrl-C there arrives through a console handler, not
//! a signal, and that version is still to be written.
//!
//! How a delivery reaches a listener: while a signal has a listener, a `sigaction`
//! handler (`handler.rs`) marks it pending and writes to an eventfd, and (unless the
//! handler it replaced was the program's own) the threads the runtime started block it
//! (`mask.rs`) so that what is sent to them waits in a signalfd (`signalfd.rs`). In
//! each runtime with a listener, a reader task (`reader.rs`) waits for both through the
//! runtime's driver, reads them, and counts the deliveries in the process-wide
//! dispatcher (`registry.rs`), which wakes every listener in every runtime. Systems
//! without signalfd (macOS, the BSDs) take the handler's path alone: the handler
//! writes to a self-pipe instead of an eventfd, and no thread's mask is changed. This module
//! must never change the mask of a thread no runtime started, and its handler must
//! never do anything that is not async-signal-safe.

mod handler;
mod kind;
mod mask;
mod reader;
mod registry;
// signalfd is Linux's: elsewhere every delivery arrives through the handler.
#[cfg(target_os = "linux")]
mod signalfd;
pub mod unix;

pub(crate) use mask::{
    resync as resync_runtime_thread_mask, runtime_thread_started,
    stale as runtime_thread_mask_stale,
};

use std::io;
use std::os::fd::RawFd;
use std::sync::OnceLock;

/// One of the module's process-wide descriptors, made by `make` (a system call
/// returning the descriptor or -1) on first use and never closed, since readers in
/// any runtime may wait on it at any time. A failure is remembered (its errno), so
/// every later listener gets the same answer without retrying.
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

/// Wait for a Ctrl-C (`SIGINT`).
///
/// The listener is made when the returned future is first polled, and a `SIGINT`
/// counts from then on; while it listens, `SIGINT` no longer ends the process. When the
/// future completes or is dropped, the previous disposition is put back (unless
/// another listener of `SIGINT` lives), and a later Ctrl-C terminates the process
/// again. To handle every Ctrl-C, keep a listener with
/// `unix::signal(SignalKind::interrupt())` instead.
///
/// # Errors
/// Outside a Zokio runtime, or when the OS refuses what listening needs; see
/// [`unix::signal`]. Also when the runtime shuts down before a Ctrl-C arrives.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "zokio::signal::ctrl_c: the runtime shut down before a Ctrl-C arrived",
        )),
    }
}
