//! Child processes, with tokio's `tokio::process` API: [`Command`] builds and
//! spawns, [`Child`] waits for, kills and reaps, and [`ChildStdin`],
//! [`ChildStdout`] and [`ChildStderr`] are the parent's ends of the piped standard
//! streams.
//!
//! The [`Command`] builder, the [`Child`] handle and the errors about a command
//! (`check.rs`) are the same everywhere; how a child is waited for and how its pipes
//! are served are each platform's.
//!
//! Unix: waiting is native and needs no process-wide `SIGCHLD` handler: each child gets a
//! pidfd as it is spawned, and waiting for it is an operation on the driver of the
//! worker that waits: io_uring's `IORING_OP_WAITID` where the kernel has it (Linux
//! 6.7+), else the pidfd's readiness (io_uring's `POLL_ADD`, or epoll). A child
//! whose [`Child`] is dropped before it was reaped is still reaped (see
//! [`Child`]). Only where the kernel has no pidfds (before Linux 5.3, and on every
//! system but Linux: macOS, the BSDs) is a child waited for through `SIGCHLD` (with
//! `zokio::signal`, reaping that child alone with a non-blocking `waitpid`).
//!
//! Windows: a child is waited for with `RegisterWaitForSingleObject` on its process
//! handle (one of the system's wait threads waits, and wakes the task), not on the
//! blocking pool, which would hold a whole pool thread per waiting child where nothing
//! can cancel it. Its pipes are `std`'s, whose calls run on the blocking pool, one
//! call in flight per end (a read-ahead buffer on the reading ends, write-behind on
//! stdin); see `windows_stdio.rs`. There are no zombies, so nothing is left to reap
//! once a [`Child`] is dropped; `kill_on_drop` ends the child with `TerminateProcess`.
//!
//! Files: this one is the [`Command`] builder; `child.rs` the [`Child`] handle;
//! `check.rs` the errors about a command; `pipe_api.rs` the pipe ends' public
//! methods and traits, written once over each platform's pipe. Unix: `stdio.rs` the
//! pipes; `wait.rs` the pidfd and the reap; `sigchld.rs` the wait without a pidfd;
//! `orphans.rs` the children dropped unreaped. Windows: `windows_stdio.rs` the pipes
//! and `windows_wait.rs` the process handle and its wait. Nothing in this module may
//! block a worker.
//!
//! # Example
//!
//! ```no_run
//! use zokio::process::Command;
//!
//! # async fn demo() -> std::io::Result<()> {
//! # #[cfg(unix)]
//! let output = Command::new("echo").arg("hello").output().await?;
//! # #[cfg(windows)]
//! # let output = Command::new("cmd").args(["/c", "echo hello"]).output().await?;
//! assert!(output.stdout.starts_with(b"hello"));
//! # Ok(())
//! # }
//! ```

mod check;
mod child;
#[cfg(unix)]
mod orphans;
mod pipe_api;
#[cfg(unix)]
mod sigchld;
#[cfg(unix)]
mod stdio;
#[cfg(windows)]
#[path = "windows_stdio.rs"]
mod stdio;
#[cfg(unix)]
mod wait;
#[cfg(windows)]
#[path = "windows_wait.rs"]
mod wait;

use std::ffi::OsStr;
use std::future::Future;
use std::io;
use std::path::Path;
use std::process::{Command as StdCommand, ExitStatus, Output, Stdio};

pub use child::Child;
#[cfg(unix)]
#[doc(hidden)]
pub use sigchld::pretend_no_pidfd;
pub use stdio::{ChildStderr, ChildStdin, ChildStdout};

#[cfg(unix)]
use std::os::unix::process::CommandExt as _;
#[cfg(windows)]
use std::os::windows::process::CommandExt as _;

/// A process to start: a program, its arguments, environment, working directory
/// and standard streams, as [`std::process::Command`] (which this wraps), started
/// with [`spawn`](Self::spawn), [`status`](Self::status) or
/// [`output`](Self::output), whose waiting does not block a thread.
#[derive(Debug)]
pub struct Command {
    std: StdCommand,
    kill_on_drop: bool,
    /// The first NUL byte given, reported by `spawn`.
    nul: check::NulFound,
}

impl Command {
    /// A command to run `program`: a path, or a name looked up in `PATH`. By
    /// default the child inherits this process's environment, working directory
    /// and standard streams ([`output`](Self::output) pipes stdout and stderr).
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        let mut command: Command = StdCommand::new(program.as_ref()).into();
        command.nul.program(program.as_ref());
        command
    }

    /// The `std` command inside, to read or to set what this type does not offer.
    pub fn as_std(&self) -> &StdCommand {
        &self.std
    }

    /// The `std` command inside, mutably.
    pub fn as_std_mut(&mut self) -> &mut StdCommand {
        &mut self.std
    }

    /// The `std` command inside; the `kill_on_drop` setting is lost.
    pub fn into_std(self) -> StdCommand {
        self.std
    }

    /// Add one argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.nul.arg(self.std.get_args().len() + 1, arg.as_ref());
        self.std.arg(arg);
        self
    }

    /// Add several arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// Set an environment variable for the child.
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.nul.env(key.as_ref(), val.as_ref());
        self.std.env(key, val);
        self
    }

    /// Set several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (key, val) in vars {
            self.env(key, val);
        }
        self
    }

    /// Do not pass the variable `key` to the child.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.nul.env_remove(key.as_ref());
        self.std.env_remove(key);
        self
    }

    /// Pass no inherited environment variable to the child (only those set here).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.nul.dir(dir.as_ref().as_os_str());
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: inherited by default (`Stdio::piped()` makes
    /// [`Child::stdin`]).
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output: inherited by default (`Stdio::piped()` makes
    /// [`Child::stdout`]).
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error: inherited by default (`Stdio::piped()` makes
    /// [`Child::stderr`]).
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Kill the child (`SIGKILL` on Unix, `TerminateProcess` on Windows) when its
    /// [`Child`] is dropped before the child was reaped. Off by default: a dropped
    /// child runs on (and, on Unix, is still reaped once it exits).
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether [`kill_on_drop`](Self::kill_on_drop) is set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// Run the child as user `id` (`setuid`). Unix only.
    #[cfg(unix)]
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// Run the child as group `id` (`setgid`). Unix only.
    #[cfg(unix)]
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// The child's `argv[0]` (by default the program as given). Unix only.
    #[cfg(unix)]
    pub fn arg0<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.nul.arg0(arg.as_ref());
        self.std.arg0(arg);
        self
    }

    /// Put the child in process group `pgroup` (0: a new group led by the child).
    /// Unix only.
    #[cfg(unix)]
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Run `f` in the child after `fork` and before `exec`. Unix only.
    ///
    /// # Safety
    /// As [`std::os::unix::process::CommandExt::pre_exec`]: in a multi-threaded
    /// program the child is a copy of one thread, so `f` may only do what is
    /// async-signal-safe (no allocation, no locks another thread may have held).
    #[cfg(unix)]
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: the caller's contract, which is `std`'s.
        unsafe { self.std.pre_exec(f) };
        self
    }

    /// The process creation flags `CreateProcess` is given (`CREATE_NO_WINDOW`,
    /// `CREATE_NEW_PROCESS_GROUP`...). Windows only.
    #[cfg(windows)]
    pub fn creation_flags(&mut self, flags: u32) -> &mut Command {
        self.std.creation_flags(flags);
        self
    }

    /// Add one argument as it is, without the quoting `arg` applies (for programs,
    /// such as `cmd`, that parse their command line their own way). Windows only.
    #[cfg(windows)]
    pub fn raw_arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.nul.arg(self.std.get_args().len() + 1, arg.as_ref());
        self.std.raw_arg(arg);
        self
    }

    /// Start the child.
    ///
    /// Must be called inside a Zokio runtime: on Unix piped streams are registered
    /// with it and a child dropped unreaped is waited for on it; on Windows the
    /// pipes' calls run on its blocking pool.
    ///
    /// # Errors
    /// Outside a Zokio runtime; `InvalidInput` for an empty program name or a NUL
    /// byte inside the program, an argument, an environment variable or the
    /// working directory (naming which); a failed start (`NotFound` for a program
    /// that does not exist, `PermissionDenied`...), naming the program and keeping
    /// the OS error's kind.
    pub fn spawn(&mut self) -> io::Result<Child> {
        if let Err(why) = crate::runtime::Handle::try_current() {
            return Err(io::Error::other(format!(
                "Command::spawn needs a Zokio runtime (for the child's pipes and its \
                 wait), but it was {why}; spawn from a task, `block_on` or after \
                 `Runtime::enter`"
            )));
        }
        check::check(&self.std)?;
        self.nul.check()?;
        #[cfg(unix)]
        orphans::sweep();
        let mut spawned = self
            .std
            .spawn()
            .map_err(|e| check::spawn_failed(&self.std, e))?;
        let stdin = spawned.stdin.take();
        let stdout = spawned.stdout.take();
        let stderr = spawned.stderr.take();
        let process = self.take_charge(spawned)?;
        let mut child = Child::new(process, self.kill_on_drop, None, None, None);
        child.stdin = stdin.map(ChildStdin::from_std).transpose()?;
        child.stdout = stdout.map(ChildStdout::from_std).transpose()?;
        child.stderr = stderr.map(ChildStderr::from_std).transpose()?;
        Ok(child)
    }

    /// Make the child `std` just spawned ours to wait for: its pidfd (where the
    /// kernel has them). `std`'s handle is dropped without waiting: from here on
    /// only `wait.rs` reaps this child.
    #[cfg(unix)]
    fn take_charge(&self, mut spawned: std::process::Child) -> io::Result<wait::Process> {
        match wait::Process::open(spawned.id()) {
            Ok(process) => Ok(process),
            Err(err) => {
                // Nothing could ever wait for this child natively: stop it now
                // rather than leave it unreaped.
                let _ = spawned.kill();
                let _ = spawned.wait();
                Err(io::Error::new(
                    err.kind(),
                    format!(
                        "spawned `{}` but could not open a pidfd to wait for it ({err}); \
                         the child was killed. Close descriptors or raise the limit \
                         (`ulimit -n`) and try again",
                        self.std.get_program().to_string_lossy()
                    ),
                ))
            }
        }
    }

    /// Make the child `std` just spawned ours to wait for: its process handle.
    #[cfg(windows)]
    fn take_charge(&self, spawned: std::process::Child) -> io::Result<wait::Process> {
        Ok(wait::Process::new(spawned))
    }

    /// Start the child with no piped streams (any piped one is closed) and wait
    /// for it; its exit status. The child starts now, even if the future is never
    /// awaited.
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) and [`Child::wait`].
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> {
        let child = self.spawn();
        async {
            let mut child = child?;
            // A child writing to or reading from a pipe nobody serves would never
            // end.
            drop(child.stdin.take());
            drop(child.stdout.take());
            drop(child.stderr.take());
            child.wait().await
        }
    }

    /// Start the child with its standard output and error piped (this setting
    /// stays on the command), and collect both while waiting for it. The child
    /// starts now, even if the future is never awaited.
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) and [`Child::wait_with_output`].
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> {
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async { child?.wait_with_output().await }
    }
}

impl From<StdCommand> for Command {
    fn from(std: StdCommand) -> Command {
        Command {
            std,
            kill_on_drop: false,
            nul: check::NulFound::default(),
        }
    }
}
