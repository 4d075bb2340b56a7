//! Synchronisation primitives for tasks: channels (`mpsc`, `oneshot`, `broadcast`,
//! `watch`), locks (`Mutex`, `RwLock`), `Semaphore`, `Notify`, `Barrier`, `OnceCell`,
//! `SetOnce`, with tokio's names, signatures and semantics.
//!
//! # What comes from tokio and what is Zokio's
//!
//! The primitives themselves are tokio's (its `sync` module is runtime-independent), not
//! reinvented. But two of their behaviours depend on the runtime they run on, and tokio
//! only knows its own:
//!
//! - **The cooperative budget.** Inside tokio, receiving, sending on a bounded channel,
//!   locking and acquiring each spend a unit of the task's budget, so a task looping on
//!   an always-ready channel or an always-free lock yields now and then. tokio keeps that
//!   budget in its own runtime's thread-local; on a Zokio worker there is none, so the
//!   loop would never yield and would starve its worker, timers and I/O included.
//! - **Blocking calls.** `blocking_recv`, `blocking_lock`, `blocking_send`, ... panic
//!   when called on a thread that drives a tokio runtime's tasks (they would stall them
//!   all); a Zokio worker is not one for tokio, so they would silently block it.
//!
//! So every type whose tokio original is cooperative or has `blocking_*` methods is
//! wrapped here, with the same name and signatures: its async and `poll_*` methods
//! spend Zokio's budget ([`crate::task::coop`]) exactly where tokio's spend tokio's, and
//! its `blocking_*` methods panic, with tokio's message, on a thread that drives Zokio
//! tasks (a worker, or inside `block_on`) and block normally elsewhere (a plain thread,
//! a `spawn_blocking` closure). The wrapped types are: [`mpsc`]'s `Sender`,
//! `WeakSender`, `OwnedPermit`, `Receiver` and `UnboundedReceiver`; [`oneshot`]'s
//! `Sender` and `Receiver`; [`broadcast`]'s `Sender`, `WeakSender` and `Receiver`;
//! [`watch`]'s `Sender` and `Receiver`; [`Mutex`], [`RwLock`], [`Semaphore`],
//! [`OnceCell`] and [`Barrier`].
//!
//! Re-exported from tokio unchanged, because nothing in them depends on the runtime:
//! [`Notify`] and its futures, [`SetOnce`] (neither spends tokio's budget), every error
//! type, the lock guards, the semaphore permits, `mpsc::{Permit, PermitIterator,
//! UnboundedSender, WeakUnboundedSender}` and `watch::Ref`. These are handed out only
//! after the wrapped operation spent the budget, and dropping or using them never waits.
//! Two consequences of the guards and permits being tokio's: `MutexGuard::mutex`,
//! `OwnedMutexGuard::mutex`, `SemaphorePermit::semaphore` and
//! `OwnedSemaphorePermit::semaphore` return tokio's type (the lock inside Zokio's,
//! which has tokio's non-waiting methods), and `tokio-stream`'s and `tokio-util`'s
//! wrappers (`ReceiverStream`, `PollSender`, ...) take tokio's types, not these.
//!
//! Code that uses `tokio::sync` directly on Zokio gets neither protection: tokio's
//! primitives never see Zokio's budget (a busy loop on them starves its worker) and
//! cannot tell that a Zokio worker is driving tasks (their `blocking_*` methods block
//! it). Port `tokio::sync` to `zokio::sync`.
//!
//! Not provided: `mpsc::Sender::send_timeout`, which needs tokio's timer (use
//! `zokio::time::timeout(duration, sender.send(value))`).

mod barrier;
mod blocking;
pub mod broadcast;
mod budget;
pub mod mpsc;
mod mutex;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
pub mod watch;

pub use barrier::Barrier;
pub use mutex::Mutex;
pub use once_cell::OnceCell;
pub use rwlock::RwLock;
pub use semaphore::Semaphore;

pub use tokio::sync::futures;
pub use tokio::sync::{
    AcquireError, BarrierWaitResult, MappedMutexGuard, MutexGuard, Notify, OwnedMappedMutexGuard,
    OwnedMutexGuard, OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard,
    OwnedSemaphorePermit, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
    SemaphorePermit, SetError, SetOnce, SetOnceError, TryAcquireError, TryLockError,
};
