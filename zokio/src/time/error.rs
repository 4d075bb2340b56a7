//! Errors of the time module: `Elapsed`, what a `Timeout` returns when its
//! deadline comes first. Nothing here may depend on the runtime.

use std::fmt;
use std::io;

/// The deadline of a [`timeout`](crate::time::timeout) passed before its future
/// completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(err: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_converts_like_tokio() {
        assert_eq!(Elapsed::new().to_string(), "deadline has elapsed");
        let io: io::Error = Elapsed::new().into();
        assert_eq!(io.kind(), io::ErrorKind::TimedOut);
        assert_eq!(io.to_string(), "deadline has elapsed");
    }
}
