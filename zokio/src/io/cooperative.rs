//! How tokio's runtime-independent I/O utilities are made to spend Zokio's
//! cooperative budget.
//!
//! tokio's `copy`, `empty`, `repeat`, `sink`, `duplex`... ask tokio's own budget
//! before they do work; outside a tokio runtime that budget is unlimited, so on
//! Zokio a loop over them would never give its worker back. The wrappers in this
//! module's siblings ask Zokio's budget at the same points and then call tokio's
//! code unchanged. Nothing here may do I/O or hold data of its own.

use std::future::{poll_fn, Future};
use std::task::{ready, Context, Poll};

use crate::task::coop;

/// Spend one unit of the task's budget, or, when it is used up, schedule the task
/// again and answer `Pending` (tokio's `empty`, `repeat` and `sink` spend one unit
/// on every call, whatever happens next).
pub(crate) fn spend_budget(cx: &mut Context<'_>) -> Poll<()> {
    let unit = ready!(coop::poll_proceed(cx));
    unit.made_progress();
    Poll::Ready(())
}

/// Poll `inner` (one of tokio's futures) only while the task has budget, one unit
/// per poll.
///
/// tokio's `copy` futures take a unit when polled and keep it if any read or write
/// made progress. From outside, progress that ends in `Pending` cannot be seen, and
/// giving the unit back would also give back the units that Zokio's readers and
/// writers spent inside the same poll; so the unit is always kept. A poll that made
/// no progress thus costs one unit of the 128 a task has per turn.
pub(crate) async fn cooperative<F: Future>(inner: F) -> F::Output {
    let mut inner = std::pin::pin!(inner);
    poll_fn(|cx| {
        ready!(spend_budget(cx));
        inner.as_mut().poll(cx)
    })
    .await
}
