//! A runtime's reader: an internal task, one per runtime with a listener, that reads
//! the signalfd's records and the handler's eventfd through the runtime's own driver
//! and counts what it finds in the dispatcher. Whichever runtime's reader reads a
//! delivery, every listener everywhere is woken. It must never block its worker: both
//! descriptors are non-blocking, and "nothing to read" waits for readiness.

use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;

use super::registry::{self, ReaderState};
use super::{handler, signalfd};
use crate::driver::op::poll::PollReady;
use crate::driver::op::read::Read;
use crate::driver::op::{os_code, Op};
use crate::io::Interest;

/// Records taken per read of the signalfd.
const RECORDS_PER_READ: usize = 16;

/// The reader task for one runtime. It ends when aborted (its runtime's last listener
/// went) or dropped with its runtime; either way the dispatcher hears of it.
pub(super) fn run(state: Arc<ReaderState>) -> impl Future<Output = ()> + Send + 'static {
    // Made now, not on first poll, so that a task dropped unpolled still reports.
    let gone = Gone(state);
    async move {
        let _gone = gone;
        let (Ok(signal_fd), Ok(event_fd)) = (signalfd::fd(), handler::event_fd()) else {
            // `register` made both before spawning this task.
            return;
        };
        let records = watch(
            signal_fd,
            signalfd::RECORD * RECORDS_PER_READ,
            signalfd::signals_in,
        );
        // What the eventfd says is only "look at the pending set".
        let handled = watch(event_fd, 8, |_| handler::take_pending());
        futures_util::future::join(records, handled).await;
    }
}

/// Tells the dispatcher the reader ended, however it ended.
struct Gone(Arc<ReaderState>);

impl Drop for Gone {
    fn drop(&mut self) {
        registry::reader_gone(&self.0);
    }
}

/// Read `fd` for as long as the task lives, delivering the signals `signals` finds in
/// what each read returns.
async fn watch(fd: RawFd, capacity: usize, signals: fn(&[u8]) -> u64) {
    let mut buf = Vec::with_capacity(capacity);
    loop {
        let (result, returned) = Op::new(Read::new(fd, buf, u64::MAX)).await;
        buf = returned;
        match result {
            Ok(_) => registry::deliver(signals(&buf)),
            // Another runtime's reader took it first, or io_uring answered a
            // non-blocking descriptor at once: wait until there is something.
            Err(err) if would_block(&err) => {
                if let Err(err) = wait_readable(fd).await {
                    log::error!("zokio::signal stopped watching fd {fd}: {err}");
                    return;
                }
            }
            Err(err) if os_code(&err) == Some(libc::EINTR) => {}
            Err(err) => {
                // Neither descriptor fails a read of whole records; retrying an
                // error that does not go away would only spin.
                log::error!("zokio::signal stopped watching fd {fd}: {err}");
                return;
            }
        }
    }
}

fn would_block(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock || os_code(err) == Some(libc::EAGAIN)
}

async fn wait_readable(fd: RawFd) -> io::Result<()> {
    Op::new(PollReady {
        fd,
        interest: Interest::READABLE,
    })
    .await
    .map(|_| ())
}
