//! `ZokioTimer`: hyper's `rt::Timer` (header-read timeouts, keep-alive and HTTP/2
//! ping timers) over Zokio's timer wheel, and `ZokioSleep`, the `rt::Sleep` it hands
//! out.
//!
//! It only translates: `std::time::Instant` deadlines become `zokio::time::Instant`s
//! and `reset` moves the existing `zokio::time::Sleep` instead of allocating a new
//! one. It must never keep timer state of its own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::time::{Instant, Sleep};

/// Gives hyper Zokio's timers: pass it to a connection builder's `timer(...)`.
///
/// Its clock is Zokio's, so a runtime with a paused clock
/// ([`time::pause`](crate::time::pause)) drives hyper's timeouts in virtual time.
///
/// # Panics
/// The sleeps it creates panic when polled outside a Zokio runtime, as
/// [`zokio::time::sleep`](crate::time::sleep) does.
#[derive(Clone, Copy, Debug, Default)]
pub struct ZokioTimer {
    _private: (),
}

impl ZokioTimer {
    /// A timer using the current runtime's timer wheel.
    pub fn new() -> ZokioTimer {
        ZokioTimer { _private: () }
    }
}

impl ::hyper::rt::Timer for ZokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(ZokioSleep {
            inner: crate::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(ZokioSleep {
            inner: crate::time::sleep_until(Instant::from_std(deadline)),
        })
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    fn reset(
        &self,
        sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>,
        new_deadline: std::time::Instant,
    ) {
        match sleep.as_mut().downcast_mut_pin::<ZokioSleep>() {
            Some(ours) => ours.reset(new_deadline),
            // Some other timer's sleep: replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The `hyper::rt::Sleep` that [`ZokioTimer`] creates: a [`zokio::time::Sleep`](Sleep).
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ZokioSleep {
    inner: Sleep,
}

impl ZokioSleep {
    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> std::time::Instant {
        self.inner.deadline().into_std()
    }

    /// Move the deadline; the sleep is pending again until then.
    pub fn reset(self: Pin<&mut Self>, deadline: std::time::Instant) {
        Pin::new(&mut self.get_mut().inner).reset(Instant::from_std(deadline));
    }
}

impl Future for ZokioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

impl ::hyper::rt::Sleep for ZokioSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use ::hyper::rt::Timer;

    fn runtime() -> crate::runtime::Runtime {
        crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn sleep_and_sleep_until_wait() {
        runtime().block_on(async {
            let timer = ZokioTimer::new();
            let start = std::time::Instant::now();
            timer.sleep(Duration::from_millis(20)).await;
            assert!(start.elapsed() >= Duration::from_millis(20));
            let deadline = timer.now() + Duration::from_millis(20);
            timer.sleep_until(deadline).await;
            assert!(std::time::Instant::now() >= deadline);
        });
    }

    #[test]
    fn reset_moves_the_same_sleep() {
        runtime().block_on(async {
            let timer = ZokioTimer::new();
            let mut sleep = timer.sleep(Duration::from_secs(3600));
            // Registered with the wheel before the reset.
            assert!(futures::poll!(sleep.as_mut()).is_pending());
            let before: *const dyn ::hyper::rt::Sleep = &*sleep;
            let start = std::time::Instant::now();
            timer.reset(&mut sleep, start + Duration::from_millis(20));
            assert!(std::ptr::addr_eq(before, &*sleep), "reset reallocated");
            sleep.as_mut().await;
            assert!(start.elapsed() >= Duration::from_millis(20));
            assert!(start.elapsed() < Duration::from_secs(60));
            // And after completion: pending again until the new deadline.
            let again = std::time::Instant::now() + Duration::from_millis(10);
            timer.reset(&mut sleep, again);
            sleep.as_mut().await;
            assert!(std::time::Instant::now() >= again);
        });
    }

    #[test]
    fn reset_replaces_a_foreign_sleep() {
        struct Never;
        impl Future for Never {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                Poll::Pending
            }
        }
        impl ::hyper::rt::Sleep for Never {}

        runtime().block_on(async {
            let timer = ZokioTimer::new();
            let mut sleep: Pin<Box<dyn ::hyper::rt::Sleep>> = Box::pin(Never);
            timer.reset(&mut sleep, timer.now() + Duration::from_millis(5));
            assert!(sleep.as_mut().downcast_mut_pin::<ZokioSleep>().is_some());
            sleep.await;
        });
    }

    #[test]
    fn follows_a_paused_clock() {
        let rt = crate::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let timer = ZokioTimer::new();
            let start = std::time::Instant::now();
            let virtual_start = timer.now();
            // Auto-advance: an hour of virtual time, no real waiting.
            timer.sleep(Duration::from_secs(3600)).await;
            assert!(timer.now() >= virtual_start + Duration::from_secs(3600));
            assert!(start.elapsed() < Duration::from_secs(60));
        });
    }
}
