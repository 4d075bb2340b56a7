//! The async barrier: tokio's `Barrier`, wrapped so that waiting spends Zokio's
//! cooperative budget as tokio's spends tokio's.
//!
//! tokio's barrier spends budget only through the watch receiver its non-leading
//! waiters wait on, once that wait completes; the task that arrives last (the leader)
//! returns at once and spends nothing. The wrapper spends one unit after a non-leading
//! wait, the leader none. Nothing here may wait other than through tokio's futures.

use std::fmt;

use tokio::sync as tokio_sync;

use super::budget::spend_after_success;
use super::BarrierWaitResult;

/// Lets `n` tasks wait until all of them have arrived, then releases them together;
/// it can be used again for the next round.
pub struct Barrier {
    inner: tokio_sync::Barrier,
}

impl Barrier {
    /// A barrier for `n` tasks (0 is taken as 1: nobody waits).
    #[track_caller]
    pub fn new(n: usize) -> Barrier {
        Barrier {
            inner: tokio_sync::Barrier::new(n),
        }
    }

    /// Wait until `n` tasks have called `wait` in this round. Exactly one of them, the
    /// last to arrive, gets a result whose `is_leader` is true.
    ///
    /// Spends one unit of the task's budget once a non-leading wait is over.
    pub async fn wait(&self) -> BarrierWaitResult {
        let result = self.inner.wait().await;
        if !result.is_leader() {
            spend_after_success().await;
        }
        result
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
