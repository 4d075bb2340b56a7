//! Zokio: a lean asynchronous runtime with a work-stealing scheduler, configured at
//! compile time.
//!
//! ```
//! let rt = zokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! let sum = rt.block_on(async {
//!     let handles: Vec<_> = (0..10u64).map(|i| zokio::spawn(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for handle in handles {
//!         sum += handle.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(sum, 285);
//! ```
//!
//! Layers, one folder each: `task` (the unit of work), `scheduler` (who runs it),
//! `driver` (what a worker sleeps in: an io_uring ring or epoll, plus its timers),
//! `io` (owned-buffer operations on descriptors), `time` (sleep, timeout, interval),
//! `runtime` (threads, handles, shutdown), `memory` (where tasks live), and `config`
//! (choosing those at compile time).
//!
//! On Windows the runtime, tasks, timers, synchronization, memory strategies, the
//! blocking pool, `fs`, `process`, `signal` (its `windows` module: console control
//! events, in place of `unix`) and the I/O utilities work; `net`, `io::unix` and the
//! descriptor operations of `io::ops` are not yet available there.
//!
//! With the `hyper` feature, `hyper` holds the executor, timer and I/O adapter that
//! hyper 1.x needs to serve and make HTTP/1 and HTTP/2 connections on Zokio.
//!
//! # Features
//!
//! - `macros` (default): `#[zokio::main]` and `#[zokio::test]`.
//! - `tokio-io` (default): tokio's `AsyncRead`/`AsyncWrite` on Zokio's sockets, files
//!   and pipes, so crates built on them (codecs, TLS, hyper) work unchanged.
//! - `futures-io`: the `futures` crate's `AsyncRead`/`AsyncWrite` on the same types
//!   (and `AsyncSeek` on files).
//! - `hyper`: the `hyper` module (implies `tokio-io`).
//! - `tracing`: the spans and events tokio-console reads (below).
//!
//! Which scheduler, I/O driver and memory strategy a runtime uses is not a feature:
//! it is chosen at run time with [`runtime::Builder`] or at compile time with a
//! [`Config`].
//!
//! With the `tracing` feature (off by default, and then costing nothing), Zokio emits
//! the spans and events that tokio-console reads, with tokio's names and fields: a
//! `runtime.spawn` span per task, waker events, `runtime.resource` spans for timers.
//! `examples/console.rs` says how to run a program with `console-subscriber` and
//! attach `tokio-console`. Task names (`task::Builder`) and spawn locations show there,
//! and in `runtime::Handle::alive_tasks` with or without the feature.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]
// Where `std` keeps thread locals through the OS (windows-gnu), clippy's lint fires
// on `thread_local!`s whose initializer already is `const` (rust-clippy#17566).
#![cfg_attr(
    all(windows, target_env = "gnu"),
    allow(clippy::missing_const_for_thread_local)
)]

pub mod config;
pub(crate) mod driver;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
mod loom;
pub mod memory;
pub mod net;
pub mod process;
pub mod runtime;
pub(crate) mod scheduler;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

pub use config::{Config, DefaultConfig, RuntimeInfo};
pub use task::spawn;
pub use tokio::{join, pin, select, try_join};

#[cfg(feature = "macros")]
pub use zokio_macros::{main, test};
