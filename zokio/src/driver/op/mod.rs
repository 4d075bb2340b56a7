//! The operation layer every driver serves: one `OpKind` per file (`nop`, `read`,
//! `write`, `readv`, `writev`, `poll`, `timeout`, `close`, `waitid`, for sockets `accept`,
//! `connect`, `recv`, `send`, `recv_from`, `send_to`, and on Windows `read_file` and
//! `write_file`) and the one `Op` future that runs any of them. A socket kind has
//! one file per system, under one module name: Windows' files are named after
//! their Winsock calls (`wsa_recv.rs` is `recv` there, `accept_ex.rs` is `accept`,
//! `peek_ready.rs` is `poll`), so the sockets above name one kind on both.
//!
//! On io_uring an operation is a submission entry: its data moves into a heap cell
//! (`cell.rs`) that the driver keeps until the completion arrives, even if the future
//! is dropped first. On a readiness driver (epoll, kqueue, poll) the same operation
//! runs as a system call in the task, after the driver reported the descriptor ready.
//! On IOCP (Windows) the driver starts it with the `OVERLAPPED` at the head of its
//! cell, and keeps the cell until the completion packet. A kind only describes itself
//! (its entry, its readiness, its system call, its result); it must never decide
//! which driver runs it.

#[cfg(unix)]
pub(crate) mod accept;
#[cfg(windows)]
#[path = "accept_ex.rs"]
pub(crate) mod accept;
#[cfg(unix)]
pub(crate) mod addr;
#[cfg(windows)]
#[path = "addr_windows.rs"]
pub(crate) mod addr;
pub(crate) mod cell;
#[cfg(all(test, not(loom)))]
mod cell_tests;
#[cfg(unix)]
pub(crate) mod close;
#[cfg(unix)]
pub(crate) mod connect;
#[cfg(windows)]
#[path = "connect_ex.rs"]
pub(crate) mod connect;
#[cfg(unix)]
pub(crate) mod fsync;
#[cfg(unix)]
pub(crate) mod ftruncate;
pub(crate) mod keep_fd;
#[cfg(all(test, loom))]
mod loom_cell;
#[cfg(unix)]
mod msghdr;
pub(crate) mod nop;
#[cfg(unix)]
pub(crate) mod path;
#[cfg(unix)]
pub(crate) mod poll;
#[cfg(windows)]
#[path = "peek_ready.rs"]
pub(crate) mod poll;
#[cfg(unix)]
pub(crate) mod read;
#[cfg(windows)]
pub(crate) mod read_file;
#[cfg(unix)]
pub(crate) mod readv;
#[cfg(unix)]
pub(crate) mod recv;
#[cfg(windows)]
#[path = "wsa_recv.rs"]
pub(crate) mod recv;
#[cfg(unix)]
pub(crate) mod recv_from;
#[cfg(windows)]
#[path = "wsa_recv_from.rs"]
pub(crate) mod recv_from;
#[cfg(unix)]
mod rw;
#[cfg(unix)]
pub(crate) mod send;
#[cfg(windows)]
#[path = "wsa_send.rs"]
pub(crate) mod send;
#[cfg(unix)]
pub(crate) mod send_to;
#[cfg(windows)]
#[path = "wsa_send_to.rs"]
pub(crate) mod send_to;
#[cfg(unix)]
pub(crate) mod statx;
pub(crate) mod timeout;
#[cfg(unix)]
pub(crate) mod waitid;
#[cfg(unix)]
pub(crate) mod write;
#[cfg(windows)]
pub(crate) mod write_file;
#[cfg(unix)]
pub(crate) mod writev;
#[cfg(windows)]
mod wsa;

use std::future::Future;
use std::io;
#[cfg(unix)]
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use cell::OwnedCell;

use super::{context, DriverKind, DriverShared};
use crate::task::coop;

/// Set in a readiness result when the driver cannot wait on the descriptor at all
/// (a regular file): it is always ready, and its system calls may block.
pub(crate) const ALWAYS_READY: i32 = 1 << 30;

/// What an operation needs from a readiness driver (epoll, kqueue, poll).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ReadinessWait {
    /// Nothing: run the system call right away (nop, close, regular files).
    Never,
    /// Wait until `fd` is ready for `events` (`EPOLLIN`/`EPOLLOUT` bits). With `then_run`
    /// the system call runs after that; without it, the readiness is the result.
    #[cfg(unix)]
    Fd {
        fd: RawFd,
        events: u32,
        then_run: bool,
    },
    /// Complete with `-timeout::EXPIRED` once `after` has passed since submission.
    Timer { after: Duration },
}

/// A socket as the operations name it: a descriptor on Unix, a `SOCKET` on Windows.
#[cfg(unix)]
pub(crate) type RawSock = RawFd;
/// See the Unix definition.
#[cfg(windows)]
pub(crate) type RawSock = std::os::windows::io::RawSocket;
/// An owned socket: an `OwnedFd` on Unix, an `OwnedSocket` on Windows.
#[cfg(unix)]
pub(crate) type OwnedSock = std::os::fd::OwnedFd;
/// See the Unix definition.
#[cfg(windows)]
pub(crate) type OwnedSock = std::os::windows::io::OwnedSocket;

/// A Windows handle (file or socket) as the IOCP operations name it.
#[cfg(windows)]
pub(crate) type RawIocpHandle = windows_sys::Win32::Foundation::HANDLE;

/// How an operation's start went on IOCP.
#[cfg(windows)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum IocpStart {
    /// Started: its completion packet will arrive on the handle's port, whether
    /// the system finished it at once or not (Zokio never asks to skip the packet).
    Pending,
    /// Refused at once with this Win32 error: no packet will come.
    Failed(u32),
    /// Not a handle operation: the driver serves it as `readiness_wait` says (a
    /// `nop` at once, a `timeout` from its deadline list).
    NoHandle,
}

/// One kind of operation.
pub(crate) trait OpKind: Send + 'static {
    type Output;

    /// Check the arguments before anything reaches a driver.
    fn check(&self) -> io::Result<()> {
        Ok(())
    }

    /// The io_uring submission entry. Pointers in it must point into `self`'s owned
    /// data (it sits in a heap cell that stays put until the completion).
    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry;

    /// How a readiness driver serves this kind.
    fn readiness_wait(&self) -> ReadinessWait;

    /// IOCP: start the operation with `overlapped` (zeroed, in the heap cell, where it
    /// stays until the completion packet; the kind sets the offset of a file
    /// operation). Pointers handed to the system must point into `self`'s owned data.
    #[cfg(windows)]
    fn iocp_start(
        &mut self,
        _overlapped: *mut windows_sys::Win32::System::IO::OVERLAPPED,
    ) -> IocpStart {
        IocpStart::NoHandle
    }

    /// IOCP: the handle the operation runs on, which `CancelIoEx` names.
    #[cfg(windows)]
    fn iocp_handle(&self) -> Option<RawIocpHandle> {
        None
    }

    /// IOCP: once the packet for `overlapped` arrived, the count it moved or
    /// `-error`. Files ask `GetOverlappedResult`; sockets override this with
    /// `WSAGetOverlappedResult`, whose errors are Winsock's (`WSAECONNRESET`...).
    #[cfg(windows)]
    fn iocp_result(&self, overlapped: *mut windows_sys::Win32::System::IO::OVERLAPPED) -> i32 {
        match self.iocp_handle() {
            Some(handle) => overlapped_result(handle, overlapped),
            None => -(windows_sys::Win32::Foundation::ERROR_INVALID_HANDLE as i32),
        }
    }

    /// The system call, for a readiness driver, once ready. Returns the kernel's count.
    fn run_ready(&mut self) -> io::Result<usize> {
        Ok(0)
    }

    /// Turn the kernel's answer into the output, handing owned buffers back.
    fn complete(self, result: io::Result<usize>) -> Self::Output;

    /// The operation completed with `result` (`-errno` or a count) after its future
    /// was dropped; the data is dropped right after. Kinds that own a resource the
    /// kernel may or may not have consumed (a descriptor to close) look here.
    fn abandoned(&mut self, _result: i32) {}

    /// Readiness drivers: the descriptor cannot be waited on (a regular file, which epoll
    /// refuses), so the system call must be allowed to block.
    fn may_block(&mut self) {}

    /// io_uring: the kernel usually completes this operation during the submission
    /// itself (a read from the page cache). When no other task of this worker is
    /// waiting to run (so there is no batch of submissions to join), it is then
    /// worth submitting at once and taking the completion before the task yields.
    fn eager(&self) -> bool {
        false
    }
}

/// What `GetOverlappedResult` says of a finished operation on a file handle: its
/// count, or `-error` (never waiting: the packet said it is over).
#[cfg(windows)]
pub(crate) fn overlapped_result(
    handle: RawIocpHandle,
    overlapped: *mut windows_sys::Win32::System::IO::OVERLAPPED,
) -> i32 {
    let mut count = 0u32;
    // SAFETY: the caller's operation keeps the handle open; the `OVERLAPPED` is
    // finished, so nothing writes it any more; `count` is a live u32.
    let ok = unsafe {
        windows_sys::Win32::System::IO::GetOverlappedResult(handle, overlapped, &mut count, 0)
    };
    if ok == 0 {
        let code = io::Error::last_os_error().raw_os_error().unwrap_or(1);
        return -code.max(1);
    }
    count.min(i32::MAX as u32) as i32
}

/// The positive error code of an operation cancelled before it ran (or while it
/// waited), as the platform's own errors say it: `ECANCELED` on Unix (what io_uring
/// reports too), `ERROR_OPERATION_ABORTED` on Windows (what IOCP reports).
#[cfg(unix)]
pub(crate) const CANCELED: i32 = libc::ECANCELED;
/// See the Unix definition.
#[cfg(windows)]
pub(crate) const CANCELED: i32 = windows_sys::Win32::Foundation::ERROR_OPERATION_ABORTED as i32;

/// The result a driver gives an operation it cancelled only to hand its worker's
/// driver to another thread (`block_in_place`): the kernel did nothing, and the
/// future submits the operation again, wherever it is polled next. No errno is this
/// negative, so it is never mistaken for a real result.
pub(crate) const MIGRATED: i32 = i32::MIN;

/// A running operation of kind `K`.
pub(crate) struct Op<K: OpKind> {
    state: State<K>,
    /// Windows: the driver whose completion port the operation's handle is tied to,
    /// which must serve it wherever the future runs (a handle reports to one port).
    #[cfg(windows)]
    port: Option<Arc<DriverShared>>,
}

enum State<K: OpKind> {
    Idle(K),
    InFlight {
        cell: OwnedCell<K>,
        owner: Arc<DriverShared>,
        driver: DriverKind,
    },
    Done,
}

impl<K: OpKind> Op<K> {
    pub(crate) fn new(kind: K) -> Op<K> {
        Op {
            state: State::Idle(kind),
            #[cfg(windows)]
            port: None,
        }
    }

    /// An operation on a handle tied to `port`'s completion port, served by that driver.
    #[cfg(windows)]
    pub(crate) fn on_port(kind: K, port: Arc<DriverShared>) -> Op<K> {
        Op {
            state: State::Idle(kind),
            port: Some(port),
        }
    }

    /// The output if the operation has finished, without registering a waker (so a
    /// task that polled it stays the one woken); `None` while it is not over, or
    /// not started. Completion drivers only: a readiness driver's operation still
    /// has its system call to run when its wait ends.
    #[cfg(windows)]
    pub(crate) fn try_output(&mut self) -> Option<K::Output> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::InFlight {
                cell,
                owner,
                driver,
            } => match cell.try_take() {
                Ok((kind, result)) if result == MIGRATED => {
                    self.state = State::Idle(kind);
                    None
                }
                Ok((kind, result)) => Some(kind.complete(from_raw(result))),
                Err(cell) => {
                    self.state = State::InFlight {
                        cell,
                        owner,
                        driver,
                    };
                    None
                }
            },
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Whether the operation has reached a driver (a first poll may leave it
    /// unsubmitted when the task's budget is spent).
    #[cfg(windows)]
    pub(crate) fn is_submitted(&self) -> bool {
        matches!(self.state, State::InFlight { .. })
    }

    /// Let the operation run to its end with nobody waiting for it: the driver
    /// frees it when the completion comes, and nothing cancels it (a send whose
    /// bytes the caller was told are written). One not submitted yet is dropped.
    #[cfg(windows)]
    pub(crate) fn detach(mut self) {
        if let State::InFlight { cell, .. } = std::mem::replace(&mut self.state, State::Done) {
            // Dropped without a cancel: the driver's completion frees the cell (or,
            // if it is complete already, this frees it).
            cell.abandon(false);
        }
    }

    /// Hand a fresh cell to the driver that must serve it.
    fn submit(&self, header: std::ptr::NonNull<cell::OpHeader>) -> io::Result<Arc<DriverShared>> {
        #[cfg(windows)]
        if let Some(port) = &self.port {
            return context::submit_to(port, header).map(|()| port.clone());
        }
        context::submit(header)
    }
}

// `Op` never pins its contents: the kind moves freely until it is in a heap cell.
impl<K: OpKind> Unpin for Op<K> {}

/// Turn a kernel result (`-errno` or a count) into `io::Result`.
pub(crate) fn from_raw(result: i32) -> io::Result<usize> {
    if result < 0 {
        Err(io::Error::from_raw_os_error(-result))
    } else {
        Ok(result as usize)
    }
}

/// Add which operation on which descriptor failed to an OS error, keeping its kind;
/// the OS error itself (with its `raw_os_error`) stays reachable as the `source()`.
/// Errors of our own making already say what failed and pass through unchanged.
pub(crate) fn with_context(err: io::Error, op: &'static str, fd: RawSock) -> io::Error {
    if err.raw_os_error().is_none() {
        return err;
    }
    io::Error::new(err.kind(), OpError { op, fd, os: err })
}

/// The OS error code of `err`, also when `with_context` wrapped it.
pub(crate) fn os_code(err: &io::Error) -> Option<i32> {
    err.raw_os_error().or_else(|| {
        let inner = err.get_ref()?;
        let os = std::error::Error::source(inner)?.downcast_ref::<io::Error>()?;
        os.raw_os_error()
    })
}

/// An OS error with the operation and descriptor (socket, on Windows) it came from.
#[derive(Debug)]
pub(crate) struct OpError {
    op: &'static str,
    fd: RawSock,
    os: io::Error,
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if cfg!(windows) { "socket" } else { "fd" };
        write!(f, "{} on {what} {} failed: {}", self.op, self.fd, self.os)
    }
}

impl std::error::Error for OpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.os)
    }
}

impl<K: OpKind> Future for Op<K> {
    type Output = K::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<K::Output> {
        let this = self.get_mut();
        let restore = ready!(coop::poll_proceed(cx));
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Idle(mut kind) => {
                    if let Err(err) = kind.check() {
                        restore.made_progress();
                        return Poll::Ready(kind.complete(Err(err)));
                    }
                    let driver = match context::current_kind() {
                        Ok(driver) => driver,
                        Err(err) => {
                            restore.made_progress();
                            return Poll::Ready(kind.complete(Err(err)));
                        }
                    };
                    if driver.is_readiness() {
                        if let Some(result) = try_now(&mut kind) {
                            restore.made_progress();
                            return Poll::Ready(kind.complete(result));
                        }
                    }
                    let eager = !driver.is_readiness()
                        && kind.eager()
                        && !crate::scheduler::others_waiting_here();
                    let cell = if eager {
                        OwnedCell::unwatched(kind)
                    } else {
                        OwnedCell::new(kind, cx.waker().clone())
                    };
                    match this.submit(cell.header()) {
                        Ok(owner) => {
                            if eager {
                                // Submit now and reap what is done; the branch below
                                // takes the result, or registers the waker.
                                context::poll_own_ring(&owner);
                            }
                            this.state = State::InFlight {
                                cell,
                                owner,
                                driver,
                            };
                            if eager {
                                continue;
                            }
                            return Poll::Pending;
                        }
                        Err(err) => {
                            let kind = cell.into_kind();
                            restore.made_progress();
                            return Poll::Ready(kind.complete(Err(err)));
                        }
                    }
                }
                State::InFlight {
                    cell,
                    owner,
                    driver,
                } => {
                    // Usually woken by the completion itself: look before registering
                    // the waker again, then look once more after, so a completion
                    // racing with the registration is not missed.
                    let taken = match cell.try_take() {
                        Ok(done) => Ok(done),
                        Err(cell) if cell.register(cx.waker()) => Err(cell),
                        Err(cell) => cell.try_take(),
                    };
                    let (mut kind, result) = match taken {
                        Ok(done) => done,
                        Err(cell) => {
                            this.state = State::InFlight {
                                cell,
                                owner,
                                driver,
                            };
                            return Poll::Pending;
                        }
                    };
                    if result == MIGRATED {
                        this.state = State::Idle(kind);
                        continue;
                    }
                    if driver.is_readiness() && result >= 0 && result & ALWAYS_READY != 0 {
                        kind.may_block();
                    }
                    let result = from_raw(result);
                    if driver.is_readiness() {
                        #[cfg(unix)]
                        if let ReadinessWait::Fd { then_run: true, .. } = kind.readiness_wait() {
                            if result.is_ok() {
                                match run_retrying(&mut kind) {
                                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                        // Readiness was stale (another reader won): wait again.
                                        this.state = State::Idle(kind);
                                        continue;
                                    }
                                    result => {
                                        restore.made_progress();
                                        return Poll::Ready(kind.complete(result));
                                    }
                                }
                            }
                        }
                    }
                    restore.made_progress();
                    return Poll::Ready(kind.complete(result));
                }
                State::Done => panic!("`Op` polled after it completed"),
            }
        }
    }
}

/// The readiness path's first try: run the system call now when nothing needs waiting
/// for, or when the descriptor is already ready. `None` means: wait in the driver.
fn try_now<K: OpKind>(kind: &mut K) -> Option<io::Result<usize>> {
    match kind.readiness_wait() {
        ReadinessWait::Never => Some(run_retrying(kind)),
        ReadinessWait::Timer { .. } => None,
        #[cfg(unix)]
        ReadinessWait::Fd {
            fd,
            events,
            then_run,
        } => {
            let revents = super::poll_now(fd, events)?;
            if !then_run {
                return Some(Ok(revents as usize));
            }
            match run_retrying(kind) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                result => Some(result),
            }
        }
    }
}

/// Run the system call again when a signal interrupted it.
fn run_retrying<K: OpKind>(kind: &mut K) -> io::Result<usize> {
    loop {
        match kind.run_ready() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

impl<K: OpKind> Drop for Op<K> {
    fn drop(&mut self) {
        if let State::InFlight { cell, owner, .. } = std::mem::replace(&mut self.state, State::Done)
        {
            // The kernel may still use the buffer: the driver keeps the cell, cancels
            // the operation and frees the cell when the completion arrives.
            context::abandon(cell, &owner);
        }
    }
}

/// The result of a system call made through libc: the count, or the OS error.
#[cfg(unix)]
pub(crate) fn cvt(result: isize) -> io::Result<usize> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result as usize)
    }
}
