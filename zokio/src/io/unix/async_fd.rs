//! `AsyncFd`: readiness for any object that owns a file descriptor (a socket made
//! elsewhere, a pipe, an eventfd, a terminal, a timerfd...), with tokio's API.
//!
//! The object itself stays the user's: Zokio only says when the descriptor is
//! ready, and the user does the non-blocking system calls. This file holds the
//! public surface; the readiness cache and the waits are `readiness.rs`, the
//! registration check and the errors `register.rs`. Must never read, write or
//! close the descriptor, except by dropping the owned object.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use super::guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard};
use super::readiness::Registration;
use super::register::{check_pollable, AsyncFdRegisterError};
use crate::io::Interest;
use crate::runtime::Handle;

/// An object owning a file descriptor, made awaitable: wait until the descriptor is
/// readable or writable, then do the non-blocking call yourself.
///
/// The descriptor should be in non-blocking mode (`O_NONBLOCK`): a readiness can be
/// stale, and only a non-blocking call then returns `WouldBlock` instead of
/// blocking the worker.
///
/// Readiness is cached, as on tokio: once a wait (`readable`, `writable`, `ready`,
/// `poll_read_ready`...) has seen the descriptor ready, every later wait for the same
/// readiness returns at once, until the guard it handed out is told that the
/// descriptor is not ready any more ([`AsyncFdReadyGuard::clear_ready`], or its
/// `try_io` seeing `WouldBlock`). Clear the readiness exactly when a call returned
/// `WouldBlock`. Unlike tokio's edge-triggered reactor, Zokio then waits for the
/// descriptor's current state: if it is still ready (a readiness cleared too early),
/// the next wait returns at once instead of sleeping until the next change.
///
/// Waits run as poll operations on the driver of the worker that waits (io_uring or
/// epoll), so a task may move between workers while it waits; a wait from a thread
/// outside any runtime goes to the runtime the `AsyncFd` was registered with. Any
/// number of tasks may wait at once, each for its own readiness. Dropping the
/// `AsyncFd` cancels its waits, then drops the object (which closes the
/// descriptor, if the object owns it); [`AsyncFd::into_inner`] hands the object back
/// instead. On io_uring a wait still in flight holds the open file until the ring
/// has taken its cancel (the worker's next turn): the descriptor's number is free
/// at once, but a peer sees the file closed only then.
///
/// # Example
///
/// ```no_run
/// use std::io::Read;
/// use std::os::unix::net::UnixStream;
/// use zokio::io::unix::AsyncFd;
///
/// # async fn demo() -> std::io::Result<()> {
/// let (ours, _theirs) = UnixStream::pair()?;
/// ours.set_nonblocking(true)?;
/// // SAFETY: the stream owns its descriptor and is neither replaced nor closed
/// // while the AsyncFd owns it.
/// let fd = unsafe { AsyncFd::register(ours)? };
/// let mut buf = [0; 64];
/// let n = loop {
///     let mut guard = fd.readable().await?;
///     match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
///         Ok(result) => break result?,
///         Err(_would_block) => continue,
///     }
/// };
/// # let _ = n;
/// # Ok(())
/// # }
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// Always `Some`, except while `into_inner` or `drop` takes it out.
    inner: Option<T>,
    registration: Registration,
}

fn no_runtime(why: crate::runtime::TryCurrentError) -> io::Error {
    io::Error::other(format!(
        "AsyncFd needs a Zokio runtime to wait in: it was {why}"
    ))
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Register `inner`'s descriptor for reading and writing readiness.
    ///
    /// Must be called inside a Zokio runtime (a task, `block_on`, or after
    /// `Runtime::enter`); waits from threads outside any runtime go to that runtime.
    ///
    /// # Errors
    /// The object comes back with the cause when there is no runtime, when the
    /// runtime shut down, or when the descriptor cannot be waited on: a regular file
    /// or a directory (`PermissionDenied`, as tokio's), or a number that is not an
    /// open descriptor. Zokio checks this on both drivers, although io_uring could
    /// poll a regular file, so that a program fails the same way on either.
    ///
    /// # Safety
    /// `inner.as_raw_fd()` must be an open descriptor, always the same one, that
    /// stays open and refers to the same open file until the `AsyncFd` is dropped,
    /// forgotten or taken apart by [`AsyncFd::into_inner`] (tokio's contract).
    /// Breaking it does not corrupt memory in Zokio, but the waits then concern
    /// whatever file the number names.
    pub unsafe fn register(inner: T) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: the caller's contract, unchanged.
        unsafe { Self::register_with_interest(inner, Interest::READABLE | Interest::WRITABLE) }
    }

    /// [`AsyncFd::register`], for the readiness in `interest` only (errors are
    /// always seen). A wait for a readiness that was not registered completes only
    /// when the descriptor hangs up or fails, as on tokio.
    ///
    /// # Errors
    /// As [`AsyncFd::register`].
    ///
    /// # Safety
    /// As [`AsyncFd::register`].
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<Self, AsyncFdRegisterError<T>> {
        let fd = inner.as_raw_fd();
        let handle = match Handle::try_current() {
            Ok(handle) => handle,
            Err(why) => return Err(AsyncFdRegisterError::new(inner, no_runtime(why))),
        };
        if handle.drivers.is_shut_down() {
            let cause =
                io::Error::other("AsyncFd cannot register with a Zokio runtime that has shut down");
            return Err(AsyncFdRegisterError::new(inner, cause));
        }
        if let Err(cause) = check_pollable(fd) {
            return Err(AsyncFdRegisterError::new(inner, cause));
        }
        Ok(AsyncFd {
            inner: Some(inner),
            registration: Registration::new(fd, interest, handle),
        })
    }

    /// [`AsyncFd::register`] without `unsafe`, as tokio still offers it.
    ///
    /// # Errors
    /// As [`AsyncFd::register`], without the object.
    #[deprecated(
        note = "does not state the descriptor's contract; use the unsafe `AsyncFd::register`, as tokio asks"
    )]
    pub fn new(inner: T) -> io::Result<Self> {
        // SAFETY: none is established; deprecated for that reason, as on tokio. A
        // broken contract misdirects waits but cannot corrupt memory in Zokio.
        unsafe { Ok(Self::register(inner)?) }
    }

    /// [`AsyncFd::register_with_interest`] without `unsafe`, as tokio still offers it.
    ///
    /// # Errors
    /// As [`AsyncFd::register`], without the object.
    #[deprecated(
        note = "does not state the descriptor's contract; use the unsafe `AsyncFd::register_with_interest`, as tokio asks"
    )]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<Self> {
        // SAFETY: as in `new`.
        unsafe { Ok(Self::register_with_interest(inner, interest)?) }
    }

    /// [`AsyncFd::register`] without `unsafe`, as tokio still offers it.
    ///
    /// # Errors
    /// As [`AsyncFd::register`].
    #[deprecated(
        note = "does not state the descriptor's contract; use the unsafe `AsyncFd::register`, as tokio asks"
    )]
    pub fn try_new(inner: T) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: as in `new`.
        unsafe { Self::register(inner) }
    }

    /// [`AsyncFd::register_with_interest`] without `unsafe`, as tokio still offers it.
    ///
    /// # Errors
    /// As [`AsyncFd::register`].
    #[deprecated(
        note = "does not state the descriptor's contract; use the unsafe `AsyncFd::register_with_interest`, as tokio asks"
    )]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: as in `new`.
        unsafe { Self::register_with_interest(inner, interest) }
    }

    fn inner_ref(&self) -> &T {
        match &self.inner {
            Some(inner) => inner,
            None => unreachable!("an AsyncFd is only without its object while it is taken apart"),
        }
    }

    fn inner_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Some(inner) => inner,
            None => unreachable!("an AsyncFd is only without its object while it is taken apart"),
        }
    }

    /// The object.
    pub fn get_ref(&self) -> &T {
        self.inner_ref()
    }

    /// The object, mutably. Calls made through it bypass the readiness cache; do not
    /// replace the descriptor (see [`AsyncFd::register`]'s contract).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner_mut()
    }

    /// Cancel every wait and hand the object back, its descriptor open.
    pub fn into_inner(mut self) -> T {
        self.registration.cancel_waits();
        match self.inner.take() {
            Some(inner) => inner,
            None => unreachable!("an AsyncFd is only without its object while it is taken apart"),
        }
    }

    /// Poll for read readiness (readable or read-closed), for poll-based code.
    ///
    /// One wait for reading is kept in the `AsyncFd` between calls, and only the
    /// waker of the latest call is woken ([`poll_write_ready`](Self::poll_write_ready)
    /// keeps its own); to wait from several tasks, use [`readable`](Self::readable).
    ///
    /// # Errors
    /// The runtime shut down, or the wait failed (the descriptor was closed under
    /// the `AsyncFd`).
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.registration.poll_ready(cx, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, event)))
    }

    /// [`poll_read_ready`](Self::poll_read_ready), with a guard that gives mutable
    /// access.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.registration.poll_ready(cx, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// Poll for write readiness (writable or write-closed); as
    /// [`poll_read_ready`](Self::poll_read_ready), with its own kept wait.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.registration.poll_ready(cx, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, event)))
    }

    /// [`poll_write_ready`](Self::poll_write_ready), with a guard that gives mutable
    /// access.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.registration.poll_ready(cx, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// Wait until the descriptor is ready for any of `interest`. The guard's
    /// [`ready`](AsyncFdReadyGuard::ready) says which; with a combined interest,
    /// clear only what blocked ([`clear_ready_matching`](AsyncFdReadyGuard::clear_ready_matching)).
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyGuard::new(self, event))
    }

    /// [`ready`](Self::ready), with a guard that gives mutable access.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyMutGuard::new(self, event))
    }

    /// Wait until the descriptor is readable (or read-closed).
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`readable`](Self::readable), with a guard that gives mutable access.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Wait until the descriptor is writable (or write-closed).
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`writable`](Self::writable), with a guard that gives mutable access.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Wait for `interest`, run `f`, and again while `f` returns `WouldBlock`
    /// (clearing the readiness each time); returns what `f` returned otherwise. `f`
    /// should do one kind of call, and return `WouldBlock` only when that call did.
    ///
    /// # Errors
    /// `f`'s error, or the wait's (see [`poll_read_ready`](Self::poll_read_ready)).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.inner_ref();
        self.registration.async_io(interest, || f(inner)).await
    }

    /// [`async_io`](Self::async_io), with mutable access to the object.
    ///
    /// # Errors
    /// As [`async_io`](Self::async_io).
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let AsyncFd {
            inner,
            registration,
        } = self;
        let inner = match inner {
            Some(inner) => inner,
            None => unreachable!("an AsyncFd is only without its object while it is taken apart"),
        };
        registration.async_io(interest, || f(inner)).await
    }

    /// Run `f` now if the descriptor is known to be ready for `interest` (or, with
    /// nothing cached, is ready now), and clear that readiness if `f` returns
    /// `WouldBlock`. Without readiness, `f` is not called.
    ///
    /// # Errors
    /// `WouldBlock` when not ready or when `f` would block; otherwise `f`'s error.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.inner_ref();
        self.registration.try_io(interest, || f(inner))
    }

    /// [`try_io`](Self::try_io), with mutable access to the object.
    ///
    /// # Errors
    /// As [`try_io`](Self::try_io).
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let AsyncFd {
            inner,
            registration,
        } = self;
        let inner = match inner {
            Some(inner) => inner,
            None => unreachable!("an AsyncFd is only without its object while it is taken apart"),
        };
        registration.try_io(interest, || f(inner))
    }

    pub(super) fn registration(&self) -> &Registration {
        &self.registration
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `register`'s contract keeps the descriptor open while the AsyncFd
        // owns the object, which outlives the borrow.
        unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // The waits go first, while the descriptor they name is still open; the
        // object (and with it, perhaps, the descriptor) is dropped after this.
        self.registration.cancel_waits();
    }
}
