//! `runtime::Id`: an opaque id of a runtime, as tokio's `Handle::id` returns.
//!
//! Ids come from one process-wide counter, so no two runtimes of a process ever share
//! one, even after the first is gone (tokio promises less: unique among the runtimes
//! running at the same time). Nothing here knows about schedulers.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque id of a runtime, unique among all the runtimes of the process.
///
/// Every handle of a runtime (clones, `Handle::current()` inside it) gives the same
/// id. The number says nothing about the order in which runtimes were built.
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq)]
pub struct Id(NonZeroU64);

static NEXT: AtomicU64 = AtomicU64::new(1);

impl Id {
    /// A fresh id, never handed out before in this process.
    pub(crate) fn next() -> Id {
        // 2^64 runtimes is out of reach; the `expect` only guards the arithmetic.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("runtime ids start at 1 and never wrap"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
