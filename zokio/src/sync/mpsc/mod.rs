//! Multi-producer, single-consumer channels: [`channel`] (bounded: a full channel makes
//! senders wait, which is the back-pressure) and [`unbounded_channel`] (sending never
//! waits).
//!
//! tokio's channels underneath, wrapped (see [`crate::sync`]) so that on Zokio
//! receiving and bounded sending spend the task's cooperative budget, and the
//! `blocking_*` methods refuse to block a thread that drives Zokio tasks.
//! [`Permit`], [`PermitIterator`], [`UnboundedSender`], [`WeakUnboundedSender`] and
//! [`error`] are tokio's own: none of them waits.
//!
//! ```
//! # #[zokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use zokio::sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::channel(4);
//! zokio::spawn(async move {
//!     for i in 0..10 {
//!         tx.send(i).await.unwrap();
//!     }
//! });
//! let mut sum = 0;
//! while let Some(i) = rx.recv().await {
//!     sum += i;
//! }
//! assert_eq!(sum, 45);
//! # }
//! ```

mod bounded;
mod receiver_methods;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Receiver, Sender, WeakSender};
pub use tokio::sync::mpsc::error;
pub use tokio::sync::mpsc::{Permit, PermitIterator, UnboundedSender, WeakUnboundedSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver};
