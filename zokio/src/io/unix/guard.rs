//! The guards an `AsyncFd` wait hands out: proof of a readiness seen, through which
//! the user says whether the descriptor is still ready. Must never touch the
//! descriptor itself.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

use super::async_fd::AsyncFd;
use super::readiness::ReadyEvent;
use super::register::TryIoError;
use crate::io::Ready;

/// A readiness of an [`AsyncFd`] that a wait saw, with shared access to it.
///
/// Dropping the guard keeps the readiness cached (the next wait returns at once);
/// [`clear_ready`](Self::clear_ready) forgets it, for when a call returned
/// `WouldBlock`.
#[must_use = "a readiness guard must be told whether the descriptor is still ready: \
              call `clear_ready` after a call returned `WouldBlock`, or use `try_io`"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// A readiness of an [`AsyncFd`] that a wait saw, with mutable access to it; as
/// [`AsyncFdReadyGuard`].
#[must_use = "a readiness guard must be told whether the descriptor is still ready: \
              call `clear_ready` after a call returned `WouldBlock`, or use `try_io`"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// Forget all of `event`'s readiness.
fn clear_all<T: AsRawFd>(async_fd: &AsyncFd<T>, event: &mut Option<ReadyEvent>) {
    if let Some(seen) = event.take() {
        async_fd.registration().clear(seen);
    }
}

/// Forget the part `ready` of `event`'s readiness; the guard keeps the rest.
fn clear_matching<T: AsRawFd>(async_fd: &AsyncFd<T>, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(seen) = event.take() {
        async_fd.registration().clear(seen.with_ready(ready));
        let left = seen.ready - ready;
        if !left.is_empty() {
            *event = Some(seen.with_ready(left));
        }
    }
}

fn readiness(event: &Option<ReadyEvent>) -> Ready {
    event.map_or(Ready::EMPTY, |seen| seen.ready)
}

/// What a guard's `try_io` makes of `f`'s result: `WouldBlock` clears the
/// readiness and becomes `TryIoError`; anything else is handed back.
fn attempt<R>(result: io::Result<R>, clear: impl FnOnce()) -> Result<io::Result<R>, TryIoError> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            clear();
            Err(TryIoError::new())
        }
        result => Ok(result),
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    pub(super) fn new(async_fd: &'a AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyGuard {
            async_fd,
            event: Some(event),
        }
    }

    /// The descriptor is not ready any more: forget this readiness, so that the next
    /// wait for it waits. Nothing is forgotten if a newer readiness was seen since
    /// this guard was made.
    pub fn clear_ready(&mut self) {
        clear_all(self.async_fd, &mut self.event);
    }

    /// Forget only the readiness in `ready` (for a combined wait, the direction that
    /// blocked); the guard keeps the rest.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(self.async_fd, &mut self.event, ready);
    }

    /// Keep the readiness (what dropping the guard does too); says so in code.
    pub fn retain_ready(&mut self) {}

    /// The readiness this guard holds; empty once cleared.
    pub fn ready(&self) -> Ready {
        readiness(&self.event)
    }

    /// Run `f`; if it returns `WouldBlock`, clear the readiness and answer
    /// `Err(TryIoError)` (wait again), else hand back `f`'s result.
    ///
    /// # Errors
    /// [`TryIoError`] when `f` would block.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.async_fd);
        attempt(result, || self.clear_ready())
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The object the `AsyncFd` owns.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyMutGuard<'a, T> {
    pub(super) fn new(async_fd: &'a mut AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyMutGuard {
            async_fd,
            event: Some(event),
        }
    }

    /// As [`AsyncFdReadyGuard::clear_ready`].
    pub fn clear_ready(&mut self) {
        clear_all(self.async_fd, &mut self.event);
    }

    /// As [`AsyncFdReadyGuard::clear_ready_matching`].
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(self.async_fd, &mut self.event, ready);
    }

    /// Keep the readiness (what dropping the guard does too); says so in code.
    pub fn retain_ready(&mut self) {}

    /// The readiness this guard holds; empty once cleared.
    pub fn ready(&self) -> Ready {
        readiness(&self.event)
    }

    /// As [`AsyncFdReadyGuard::try_io`], with mutable access.
    ///
    /// # Errors
    /// [`TryIoError`] when `f` would block.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.async_fd);
        attempt(result, || self.clear_ready())
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The object the `AsyncFd` owns.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The object the `AsyncFd` owns, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

/// As tokio's: `ReadyGuard { async_fd: .. }`.
impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("async_fd", &self.async_fd)
            .finish()
    }
}

/// As tokio's: `MutReadyGuard { async_fd: .. }`.
impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutReadyGuard")
            .field("async_fd", &self.async_fd)
            .finish()
    }
}
