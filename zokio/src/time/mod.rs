//! Time: `sleep`, `timeout`, `interval`, `Instant`, and a pausable clock for tests,
//! with tokio's names and semantics.
//!
//! Timers live in a hierarchical timer wheel per worker (6 levels of 64 slots,
//! 1 ms resolution), each behind its own lock: no lock is shared between workers.
//! A sleep never fires early; it may fire up to about 1 ms late (deadlines are
//! rounded up to the next millisecond), plus however long its worker is busy. A
//! timer registers, on its first pending poll, with the worker that polls it, and
//! can be dropped or reset from any other thread.
//!
//! Zokio's time driver is always on; `Builder::enable_time()` exists only so that
//! tokio code ports unchanged.
//!
//! Files: `instant` (the time type), `clock` (real or paused time and
//! `pause`/`resume`/`advance`), `wheel` (the data structure), `entry` (what a timer
//! shares with its wheel), `driver` (a worker's wheel: park timeout, firing,
//! shutdown), then one file per public future: `sleep`, `timeout`, `interval`, and
//! `error`. This module itself holds no logic.

pub(crate) mod clock;
pub(crate) mod driver;
mod entry;
pub mod error;
mod instant;
mod interval;
mod sleep;
#[cfg(feature = "tracing")]
mod sleep_trace;
mod timeout;
mod wheel;

pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub(crate) use instant::FAR_FUTURE;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};
