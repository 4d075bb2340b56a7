//! Readiness of Unix file descriptors that Zokio does not own: [`AsyncFd`] and its
//! guards, as `tokio::io::unix`.
//!
//! Not yet available on Windows (where tokio has no `io::unix` either; Zokio's
//! counterpart for handles and sockets is still to be written).
//!
//! `async_fd.rs` is the public surface, `guard.rs` the guards a wait hands out,
//! `readiness.rs` the cache of what was seen and the poll operations that see it,
//! `register.rs` the check a descriptor passes at registration and the errors.
//! Nothing here may do I/O on a registered descriptor.

mod async_fd;
mod guard;
mod readiness;
mod register;

pub use async_fd::AsyncFd;
pub use guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard};
#[allow(deprecated)]
pub use register::AsyncFdTryNewError;
pub use register::{AsyncFdRegisterError, TryIoError};
