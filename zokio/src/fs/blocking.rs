//! `asyncify`: run a blocking file-system call on the blocking pool and await it,
//! with an error that names the operation and the path. This is how every file
//! operation runs where the driver has no native one (the epoll driver, or a kernel
//! without the opcode). Must never run the call on a worker thread.

use std::fmt;
use std::io;
use std::path::Path;

/// Run `f` on the blocking pool. Outside a runtime this is an error, not a panic.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let handle = crate::runtime::context::with_current(|h| h.inner.blocking().spawn(f))
        .map_err(|e| io::Error::other(format!("a file operation needs a Zokio runtime: {e}")))?;
    match handle.await {
        Ok(result) => result,
        Err(join) => Err(io::Error::other(format!(
            "the blocking file operation did not finish: {join}"
        ))),
    }
}

/// Add the operation and the path to an OS error, keeping its kind; the OS error
/// stays reachable as the `source()`.
pub(crate) fn path_error(err: io::Error, op: &'static str, path: &Path) -> io::Error {
    io::Error::new(
        err.kind(),
        PathError {
            op,
            path: path.display().to_string(),
            to: None,
            os: bare(err),
        },
    )
}

/// The OS error itself, without the descriptor a ring operation added: the path
/// says more than a descriptor number, and `source()` is then the OS error.
fn bare(err: io::Error) -> io::Error {
    match crate::driver::op::os_code(&err) {
        Some(code) if err.raw_os_error().is_none() => io::Error::from_raw_os_error(code),
        _ => err,
    }
}

/// `path_error` for the operations on two paths (`rename`, `copy`, links): both are
/// named, since either may be the one at fault.
pub(crate) fn paths_error(err: io::Error, op: &'static str, from: &Path, to: &Path) -> io::Error {
    io::Error::new(
        err.kind(),
        PathError {
            op,
            path: from.display().to_string(),
            to: Some(to.display().to_string()),
            os: bare(err),
        },
    )
}

#[derive(Debug)]
struct PathError {
    op: &'static str,
    path: String,
    to: Option<String>,
    os: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.to {
            Some(to) => write!(
                f,
                "{} {} to {} failed: {}",
                self.op,
                Quoted(&self.path),
                Quoted(to),
                self.os
            ),
            None => write!(f, "{} {} failed: {}", self.op, Quoted(&self.path), self.os),
        }
    }
}

/// A path as the errors show it: in quotes, escaped as `{:?}` escapes a string on
/// Unix (a name may hold a newline). Not on Windows, whose separator is the
/// backslash: escaped, every path shown would differ from the one the caller gave.
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if cfg!(windows) {
            write!(f, "\"{}\"", self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.os)
    }
}
