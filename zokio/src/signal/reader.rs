//! A runtime's reader: an internal task, one per runtime with a listener, that waits
//! on the runtime's own driver for the signalfd and the handler's eventfd to be
//! readable, reads them, and counts what it finds in the dispatcher. Whichever runtime's reader reads a
//! delivery, every listener everywhere is woken. It must never block its worker: both
//! descriptors are non-blocking, and "nothing to read" waits for readiness.

use std::io;
use std::os::fd::RawFd;

use super::handler;
use super::registry;
#[cfg(target_os = "linux")]
use super::signalfd;
use crate::driver::op::poll::PollReady;
use crate::driver::op::Op;
use crate::io::Interest;

/// Records taken per read of the signalfd.
#[cfg(target_os = "linux")]
const RECORDS_PER_READ: usize = 16;

/// The body of the reader task for one runtime. It ends when aborted (its runtime's
/// last listener went) or dropped with its runtime; the dispatcher's wrapper around
/// it (`registry.rs`) reports either.
pub(super) async fn run() {
    let Ok(event_fd) = handler::event_fd() else {
        // `register` made it before spawning this task.
        return;
    };
    // What the eventfd says is only "look at the pending set".
    let handled = watch(event_fd, 8, |_| handler::take_pending());
    #[cfg(target_os = "linux")]
    {
        let Ok(signal_fd) = signalfd::fd() else {
            // `register` made it before spawning this task.
            return;
        };
        let records = watch(
            signal_fd,
            signalfd::RECORD * RECORDS_PER_READ,
            signalfd::signals_in,
        );
        futures_util::future::join(records, handled).await;
    }
    // Without signalfd, the handler's path is the only one.
    #[cfg(not(target_os = "linux"))]
    handled.await;
}

/// Reads in a row before the reader lets other tasks run, should a flood of signals
/// keep both descriptors readable.
const READS_BEFORE_YIELD: usize = 64;

/// Read `fd` for as long as the task lives, delivering the signals `signals` finds in
/// what each read returns.
///
/// The read itself is a plain non-blocking `read(2)` in the task; only the wait for
/// readiness goes through the driver (a poll on the ring, or epoll). A read handed to
/// the ring would take the records in the kernel, and they would count only when
/// that runtime next reaps its completions: a current-thread runtime outside
/// `block_on` never does, so every other runtime's listeners would wait on it (tried:
/// a Ctrl-C then reached no listener of the runtime being driven). It would also lose
/// them when its task is dropped in flight. A poll takes nothing: every runtime's
/// poll fires, and whichever reader runs first reads and wakes everyone.
async fn watch(fd: RawFd, capacity: usize, signals: fn(&[u8]) -> u64) {
    let mut buf = vec![0u8; capacity];
    let mut in_a_row = 0;
    loop {
        match read_now(fd, &mut buf) {
            Ok(n) => {
                registry::deliver(signals(&buf[..n]));
                in_a_row += 1;
                if in_a_row == READS_BEFORE_YIELD {
                    in_a_row = 0;
                    crate::task::yield_now().await;
                }
            }
            // Nothing there (or another runtime's reader took it first): wait.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                in_a_row = 0;
                if let Err(err) = wait_readable(fd).await {
                    log::error!("zokio::signal stopped watching fd {fd}: {err}");
                    return;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                // Neither descriptor fails a read of whole records; retrying an
                // error that does not go away would only spin.
                log::error!("zokio::signal stopped reading fd {fd}: {err}");
                return;
            }
        }
    }
}

fn read_now(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of its length; `fd` is one of our
    // descriptors, open for the life of the process and non-blocking.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

async fn wait_readable(fd: RawFd) -> io::Result<()> {
    Op::new(PollReady {
        fd,
        interest: Interest::READABLE,
    })
    .await
    .map(|_| ())
}
