//! Synchronisation primitives for tasks: tokio's runtime-independent `sync` module,
//! re-exported rather than reinvented (channels, locks, semaphores, `Notify`, ...).
//! They work on every Zokio scheduler; the tests in `tests/` prove it.

pub use tokio::sync::*;
