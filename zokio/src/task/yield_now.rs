//! `yield_now`: give the worker to other tasks once, then continue.
//!
//! Waking ourselves while running counts as `NOTIFIED` once the poll returns (the
//! harness learns it from a thread-local flag, `id::wake_current_by_ref`), which the
//! scheduler turns into a push to the back of the queue (never the LIFO slot), so
//! others really do run first.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yield once to the scheduler, letting other ready tasks run.
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
