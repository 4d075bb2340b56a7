//! [`Child`]: a spawned child process, with tokio's API: its pipes, `wait`,
//! `try_wait`, `kill`, `wait_with_output`, and `kill_on_drop`.
//!
//! The waiting itself is `wait.rs` (Unix) or `windows_wait.rs`; on Unix a child
//! dropped before it was reaped goes to `orphans.rs` (Windows has no zombies: closing
//! the process handle is all there is to do). Nothing here may call `std`'s
//! `Child::wait`/`try_wait`/`kill`: this module owns the child from its spawn on, and
//! `std` would not know what it did.

use std::fmt;
use std::io;
#[cfg(windows)]
use std::os::windows::io::RawHandle;
use std::process::{ExitStatus, Output};
use std::sync::Arc;

#[cfg(unix)]
use super::orphans;
use super::stdio::{ChildStderr, ChildStdin, ChildStdout};
use super::wait::Process;

/// A child process spawned by [`Command::spawn`](super::Command::spawn).
///
/// The child runs on whether or not this handle is awaited. Dropping the handle
/// does not kill it (unless [`kill_on_drop`](super::Command::kill_on_drop) was
/// set) and does not leave a zombie: on Unix, Zokio reaps the child once it exits,
/// in a small task on the current runtime, or at the next `spawn` or `wait` of any
/// child; on Windows, which has no zombies, the process handle is closed.
pub struct Child {
    process: Arc<Process>,
    kill_on_drop: bool,
    /// The parent's end of the child's standard input, if it was piped
    /// ([`Stdio::piped`](std::process::Stdio::piped)). Take it out to write to
    /// the child while waiting for it; [`Child::wait`] closes it if it is still
    /// here.
    pub stdin: Option<ChildStdin>,
    /// The parent's end of the child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The parent's end of the child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    pub(super) fn new(
        process: Process,
        kill_on_drop: bool,
        stdin: Option<ChildStdin>,
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
    ) -> Child {
        Child {
            process: Arc::new(process),
            kill_on_drop,
            stdin,
            stdout,
            stderr,
        }
    }

    /// The child's process id, or `None` once it has been reaped (its id may then
    /// name another process). On Windows: once its exit was seen by `wait` or
    /// `try_wait`.
    pub fn id(&self) -> Option<u32> {
        match self.process.status() {
            Some(_) => None,
            None => Some(self.process.pid()),
        }
    }

    /// The child's process handle, or `None` once its exit was seen by `wait` or
    /// `try_wait`. It stays owned by this `Child`: do not close it.
    #[cfg(windows)]
    pub fn raw_handle(&self) -> Option<RawHandle> {
        match self.process.status() {
            Some(_) => None,
            None => Some(self.process.raw_handle()),
        }
    }

    /// Ask the system to kill the child (`SIGKILL` on Unix, `TerminateProcess` with
    /// exit code 1 on Windows) without waiting for it to go. Call
    /// [`wait`](Self::wait) afterwards to reap it (or drop the handle: Zokio then
    /// reaps it). Does nothing once the child has been reaped.
    ///
    /// # Errors
    /// When the system refuses (not for a child that has already exited).
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.process.kill()
    }

    /// Kill the child (as [`start_kill`](Self::start_kill)) and wait until it is gone
    /// and reaped.
    ///
    /// # Errors
    /// As [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Wait until the child exits and reap it; its exit status. Closes the child's
    /// standard input first (if it is still held here), so that a child reading it
    /// to its end is not waiting for the parent while the parent waits for it.
    ///
    /// Cancel safe: dropping the future reaps nothing, and a later call waits
    /// again. Once the child is reaped, every call returns the same status.
    ///
    /// Waiting is native: on Linux, `IORING_OP_WAITID` on io_uring (Linux 6.7+),
    /// else the readiness of the child's pidfd, with no `SIGCHLD` handler involved
    /// except on a kernel without pidfds (before Linux 5.3) and on the other Unix
    /// systems; on Windows, a wait the system's wait threads make on the process
    /// handle (`RegisterWaitForSingleObject`). No runtime thread blocks.
    ///
    /// # Errors
    /// Outside a Zokio runtime, or when the child was reaped by other code (a
    /// `waitpid(-1)`); on Windows, when the system refuses the wait.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let status = self.process.wait().await;
        #[cfg(unix)]
        orphans::sweep();
        status
    }

    /// The exit status if the child has exited (reaping it), `None` while it runs.
    /// Never waits.
    ///
    /// # Errors
    /// When the child was reaped by other code (a `waitpid(-1)`).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.process.try_reap()
    }

    /// Wait for the child to exit while reading all of its piped standard output
    /// and standard error; the status and both outputs (empty where a stream was
    /// not piped or was taken out of the handle).
    ///
    /// # Errors
    /// As [`wait`](Self::wait), or a read error on either pipe.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        let stdout_end = self.stdout.take();
        let stderr_end = self.stderr.take();
        let stdout = async {
            let mut out = Vec::new();
            if let Some(end) = &stdout_end {
                end.read_to_end_into(&mut out).await?;
            }
            Ok::<_, io::Error>(out)
        };
        let stderr = async {
            let mut out = Vec::new();
            if let Some(end) = &stderr_end {
                end.read_to_end_into(&mut out).await?;
            }
            Ok::<_, io::Error>(out)
        };
        let (status, stdout, stderr) =
            futures_util::future::try_join3(self.wait(), stdout, stderr).await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.process.status().is_some() {
            return;
        }
        if self.kill_on_drop {
            // The child may have exited and been reaped by a racing sweep; a
            // failure here leaves nothing to do but reap.
            let _ = self.process.kill();
        }
        // Windows: dropping the process closes its handle, and that is all.
        #[cfg(unix)]
        orphans::adopt(self.process.clone());
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.process.pid())
            .field("status", &self.process.status())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
