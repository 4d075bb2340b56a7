//! `JoinError`: why a task produced no output (it was cancelled, or it panicked).
//!
//! The panic payload is kept so that `into_panic` can resume it on the joining side.
//! Nothing here may panic itself.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use super::Id;

/// The error a `JoinHandle` returns when its task did not finish normally.
pub struct JoinError {
    repr: Repr,
    id: Id,
}

enum Repr {
    Cancelled,
    // A Mutex only to make the error `Sync`, as `std::error::Error` users expect.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(Mutex::new(payload)),
            id,
        }
    }

    /// The task was aborted, or the runtime shut down before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, for `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is not a panic; check with [`JoinError::is_panic`] first.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic; check is_panic() first")
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(payload) => {
                let payload = payload.lock().unwrap_or_else(|e| e.into_inner());
                match panic_message(&**payload) {
                    Some(msg) => write!(f, "task {} panicked with message {msg:?}", self.id),
                    None => write!(f, "task {} panicked", self.id),
                }
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            // tokio's form: the message quoted when the payload is a string.
            Repr::Panic(payload) => {
                let payload = payload.lock().unwrap_or_else(|e| e.into_inner());
                match panic_message(&**payload) {
                    Some(message) => {
                        write!(f, "JoinError::Panic({:?}, {message:?}, ...)", self.id)
                    }
                    None => write!(f, "JoinError::Panic({:?}, ...)", self.id),
                }
            }
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
