//! What is wrong with a command before and after the attempt to start it, said in
//! words that name the culprit: an empty program name, a NUL byte inside the
//! program, an argument, an environment variable or the working directory (which
//! `std` reports without saying which), and a failed start, named by its program
//! with the OS error's kind kept. Must never start anything.

use std::ffi::OsStr;
use std::fmt;
use std::io;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
#[cfg(windows)]
use std::os::windows::ffi::OsStrExt;
use std::process::Command as StdCommand;

#[cfg(unix)]
fn has_nul(s: &OsStr) -> bool {
    s.as_bytes().contains(&0)
}

/// Windows strings are UTF-16 to the system: a NUL is a zero code unit.
#[cfg(windows)]
fn has_nul(s: &OsStr) -> bool {
    s.encode_wide().any(|unit| unit == 0)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Refuse a command with an empty program name.
pub(super) fn check(command: &StdCommand) -> io::Result<()> {
    if command.get_program().is_empty() {
        return Err(invalid(
            "cannot spawn a child process: the program name is empty; give \
             `Command::new` the name or path of a program"
                .into(),
        ));
    }
    Ok(())
}

/// The first NUL byte found in what a command was given, said in words. `std`
/// replaces such a string by a placeholder and fails the spawn without saying which
/// one it was, so `Command` looks as each is given.
#[derive(Debug, Clone, Default)]
pub(super) struct NulFound(Option<String>);

impl NulFound {
    fn note(&mut self, what: impl FnOnce() -> String) {
        if self.0.is_none() {
            self.0 = Some(what());
        }
    }

    pub(super) fn program(&mut self, program: &OsStr) {
        if has_nul(program) {
            self.note(|| format!("the program name {program:?}"));
        }
    }

    /// `index` counts from 1, as `argv` does after the program.
    pub(super) fn arg(&mut self, index: usize, arg: &OsStr) {
        if has_nul(arg) {
            self.note(|| format!("argument {index} ({arg:?})"));
        }
    }

    #[cfg(unix)]
    pub(super) fn arg0(&mut self, arg0: &OsStr) {
        if has_nul(arg0) {
            self.note(|| format!("argument 0 ({arg0:?})"));
        }
    }

    pub(super) fn env(&mut self, key: &OsStr, value: &OsStr) {
        if has_nul(key) {
            self.note(|| format!("the environment variable name {key:?}"));
        } else if has_nul(value) {
            self.note(|| format!("the value of the environment variable {key:?}"));
        }
    }

    pub(super) fn env_remove(&mut self, key: &OsStr) {
        if has_nul(key) {
            self.note(|| format!("the environment variable name {key:?}"));
        }
    }

    pub(super) fn dir(&mut self, dir: &OsStr) {
        if has_nul(dir) {
            self.note(|| format!("the working directory {dir:?}"));
        }
    }

    /// The error for the first NUL byte seen, if any.
    pub(super) fn check(&self) -> io::Result<()> {
        match &self.0 {
            None => Ok(()),
            Some(what) => Err(invalid(format!(
                "cannot spawn a child process: {what} contains a NUL byte, which the \
                 system cannot be handed; remove it"
            ))),
        }
    }
}

/// A failed start, with the program it was for; the OS error stays the `source()`.
#[derive(Debug)]
struct SpawnError {
    program: String,
    os: io::Error,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to spawn `{}`: {}", self.program, self.os)
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.os)
    }
}

/// Name the program in `std`'s spawn error, keeping its kind (`NotFound`,
/// `PermissionDenied`...).
pub(super) fn spawn_failed(command: &StdCommand, os: io::Error) -> io::Error {
    let program = command.get_program().to_string_lossy().into_owned();
    io::Error::new(os.kind(), SpawnError { program, os })
}
