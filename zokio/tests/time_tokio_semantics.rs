//! Timer semantics that tokio's own `time_sleep` and `time_interval` tests pin down,
//! as Zokio tests on every flavour (and, through `ZOKIO_DRIVER`, both drivers): an
//! unpolled sleep is not elapsed, a reset into the past completes at once, an
//! interval's `reset_immediately` ticks at once, and `Duration::MAX` saturates
//! wherever a deadline is computed from a duration instead of panicking.

mod common;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::flavors_named;
use zokio::runtime::{Builder, Runtime};
use zokio::time::{
    self, interval, interval_at, sleep, sleep_until, timeout, timeout_at, Instant, Interval,
};

const HOUR: Duration = Duration::from_secs(3600);
const TEN_YEARS: Duration = Duration::from_secs(86400 * 365 * 10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("paused current-thread runtime")
}

#[derive(Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Poll `f` once with the task's own waker.
async fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *f).poll(cx))).await
}

/// Poll an interval's next tick once with the task's own waker.
async fn poll_tick_once(interval: &mut Interval) -> Poll<Instant> {
    poll_fn(|cx| Poll::Ready(interval.poll_tick(cx))).await
}

/// Poll `f` once with `waker`.
fn poll_with<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

// tokio: time_sleep::immediate_sleep
#[test]
fn an_unpolled_sleep_is_not_elapsed_even_when_due() {
    common::timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut at_now = sleep_until(Instant::now());
                let mut zero = sleep(Duration::ZERO);
                assert!(
                    !at_now.is_elapsed(),
                    "{name}: sleep_until(now) before a poll"
                );
                assert!(!zero.is_elapsed(), "{name}: sleep(ZERO) before a poll");
                (&mut at_now).await;
                (&mut zero).await;
                assert!(at_now.is_elapsed(), "{name}: after completing");
                assert!(zero.is_elapsed(), "{name}: after completing");
            });
        }
    })
}

// tokio: time_sleep::reset_sleep_to_past
#[test]
fn a_sleep_reset_into_the_past_is_ready_at_its_next_poll_on_a_paused_clock() {
    common::timed(|| {
        paused().block_on(async {
            let now = Instant::now();
            let wakes = Arc::new(WakeCount::default());
            let waker = Waker::from(wakes.clone());
            let mut s = sleep_until(now + ms(100));
            assert!(poll_with(&mut s, &waker).is_pending());
            sleep(ms(50)).await;
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                0,
                "woken before its deadline"
            );
            Pin::new(&mut s).reset(now + ms(40));
            assert!(s.is_elapsed(), "a reset into the past completes the sleep");
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                1,
                "the reset wakes the task"
            );
            assert!(poll_with(&mut s, &waker).is_ready());
        });
    })
}

#[test]
fn a_sleep_reset_into_the_past_is_ready_at_its_next_poll() {
    common::timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut s = sleep(HOUR);
                assert!(poll_once(&mut s).await.is_pending(), "{name}");
                Pin::new(&mut s).reset(Instant::now());
                assert!(poll_once(&mut s).await.is_ready(), "{name}: reset to now");

                // Once more after completion, to an instant well before now.
                Pin::new(&mut s).reset(Instant::now() + HOUR);
                assert!(
                    poll_once(&mut s).await.is_pending(),
                    "{name}: pending again"
                );
                Pin::new(&mut s).reset(Instant::now() - ms(10));
                assert!(
                    poll_once(&mut s).await.is_ready(),
                    "{name}: reset to the past"
                );
            });
        }
    })
}

// tokio: time_interval::reset_immediately
#[test]
fn reset_immediately_makes_the_next_tick_ready_at_once_on_a_paused_clock() {
    common::timed(|| {
        paused().block_on(async {
            let start = Instant::now();
            time::advance(ms(1)).await;
            let mut i = interval_at(start, ms(300));
            assert_eq!(i.tick().await, start);
            time::advance(ms(100)).await;
            assert!(poll_tick_once(&mut i).await.is_pending());
            time::advance(ms(200)).await;
            assert_eq!(i.tick().await, start + ms(300));
            time::advance(ms(100)).await;
            assert!(poll_tick_once(&mut i).await.is_pending());

            i.reset_immediately();
            let tick = poll_tick_once(&mut i).await;
            assert_eq!(
                tick,
                Poll::Ready(start + ms(401)),
                "the tick after reset_immediately"
            );
            time::advance(ms(100)).await;
            assert!(poll_tick_once(&mut i).await.is_pending());
            time::advance(ms(200)).await;
            assert_eq!(i.tick().await, start + ms(701));
        });
    })
}

#[test]
fn reset_immediately_makes_the_next_tick_ready_at_once() {
    common::timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut i = interval(HOUR);
                i.tick().await;
                // The second tick is an hour away, and registered with the timer.
                assert!(poll_tick_once(&mut i).await.is_pending());
                i.reset_immediately();
                let before = Instant::now();
                let tick = poll_tick_once(&mut i).await;
                assert!(
                    matches!(tick, Poll::Ready(at) if at <= Instant::now() && at >= before - ms(1)),
                    "{name}: {tick:?}"
                );
            });
        }
    })
}

// tokio: time_interval::reset_doesnt_panic_max_duration and friends.
#[test]
fn duration_max_saturates_to_the_far_future_everywhere() {
    common::timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let now = Instant::now();

                // Instant + Duration, and +=.
                let far = now + Duration::MAX;
                assert!(far > now + TEN_YEARS, "{name}: Instant + MAX");
                let mut later = now;
                later += Duration::MAX;
                assert!(later > now + TEN_YEARS, "{name}: Instant += MAX");

                // sleep, sleep_until, and a reset of each.
                let mut s = sleep(Duration::MAX);
                assert!(s.deadline() > now + TEN_YEARS, "{name}: sleep(MAX)");
                assert!(poll_once(&mut s).await.is_pending(), "{name}: sleep(MAX)");
                Pin::new(&mut s).reset(Instant::now() + Duration::MAX);
                assert!(
                    poll_once(&mut s).await.is_pending(),
                    "{name}: reset(now + MAX)"
                );
                let mut until = sleep_until(far);
                assert!(
                    poll_once(&mut until).await.is_pending(),
                    "{name}: sleep_until"
                );

                // timeout and timeout_at.
                assert_eq!(timeout(Duration::MAX, async { 5 }).await, Ok(5), "{name}");
                let mut t = timeout(Duration::MAX, std::future::pending::<()>());
                assert!(
                    poll_once(&mut Box::pin(&mut t)).await.is_pending(),
                    "{name}"
                );
                let mut t = timeout_at(far, std::future::pending::<()>());
                assert!(
                    poll_once(&mut Box::pin(&mut t)).await.is_pending(),
                    "{name}"
                );

                // interval: the first tick is at once, then every way to reset.
                let mut i = interval(Duration::MAX);
                i.tick().await;
                assert!(poll_tick_once(&mut i).await.is_pending());
                i.reset();
                assert!(poll_tick_once(&mut i).await.is_pending());
                i.reset_after(Duration::MAX);
                i.reset_at(Instant::now() + Duration::MAX);
                assert!(poll_tick_once(&mut i).await.is_pending());
                let mut short = interval(ms(1));
                short.reset_after(Duration::MAX);
                assert!(poll_tick_once(&mut short).await.is_pending());
                let mut at = interval_at(far, Duration::MAX);
                assert!(poll_tick_once(&mut at).await.is_pending());

                // The driver's own timeout operation, dropped while in flight.
                let op = zokio::io::ops::timeout(Duration::MAX);
                zokio::select! {
                    r = op => panic!("{name}: a timeout of Duration::MAX completed: {r:?}"),
                    _ = sleep(ms(5)) => {}
                }
            });
        }
    })
}

#[test]
fn duration_max_on_a_paused_clock_never_fires() {
    common::timed(|| {
        paused().block_on(async {
            let mut s = sleep(Duration::MAX);
            assert!(poll_once(&mut s).await.is_pending());
            time::advance(TEN_YEARS).await;
            assert!(poll_once(&mut s).await.is_pending(), "fired ten years in");
            assert!(!s.is_elapsed());
        });
    })
}
