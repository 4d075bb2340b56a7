//! Waiting for a child where the kernel has no pidfd (before Linux 5.3, and every
//! system but Linux): listen for `SIGCHLD` with `zokio::signal` and, on each
//! delivery, try a non-blocking `waitpid` of this one child. Used only where
//! `pidfd_open` does not exist (or where a test pretends so, through
//! [`pretend_no_pidfd`]).
//!
//! The listener is made before the first look, so an exit between the look and
//! the wait still wakes it. `SIGCHLD` deliveries coalesce and every listener hears
//! each one, so every waiting child looks at its own status on each; only its own
//! pid is ever reaped, never `waitpid(-1)`, which would steal other code's
//! children. Must never be the path taken where a pidfd exists.

use std::io;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};

use super::wait::Process;
use crate::signal::unix::{signal, SignalKind};

static PRETEND: AtomicBool = AtomicBool::new(false);

/// Spawn children from now on as if the kernel had no pidfd, so that they are
/// waited for through `SIGCHLD` (`on = true`), or go back to pidfds (`false`).
/// A testing aid for Zokio's own tests of this path; children spawned before
/// the call keep the way they were spawned with.
#[doc(hidden)]
pub fn pretend_no_pidfd(on: bool) {
    PRETEND.store(on, Ordering::Relaxed);
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(super) fn pretending() -> bool {
    PRETEND.load(Ordering::Relaxed)
}

/// Wait for `process` to exit through `SIGCHLD`, then reap it.
pub(super) async fn wait(process: &Process) -> io::Result<ExitStatus> {
    let mut deliveries = signal(SignalKind::child()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot wait for child process {}: this kernel has no pidfd, and \
                 listening for SIGCHLD failed: {e}",
                process.pid()
            ),
        )
    })?;
    loop {
        if let Some(status) = process.try_reap()? {
            return Ok(status);
        }
        if deliveries.recv().await.is_none() {
            return Err(io::Error::other(format!(
                "stopped waiting for child process {}: the runtime that delivered \
                 SIGCHLD shut down; wait for it again inside a running runtime",
                process.pid()
            )));
        }
    }
}
