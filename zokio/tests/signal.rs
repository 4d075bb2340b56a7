//! `zokio::signal`: deliveries reach every listener in every runtime, a burst loses no
//! wake-up, a signal raised right after `signal()` returns is seen, only the runtime's
//! own threads have their masks changed, a signal sent to a runtime thread arrives
//! through the signalfd, and bad input is an error.
//!
//! Signals are process-wide: every test here takes `SERIAL` so that one test's
//! deliveries never land in another's listeners. The disposition restore is checked
//! in `signal_restore.rs`, a binary where nothing else listens.

// Tests Unix signals (`signal::unix`); Windows' console events are tested in
// `signal_windows.rs`.
#![cfg(unix)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use common::{flavors_named, timed, HANG_GUARD};
#[cfg(target_os = "linux")]
use zokio::runtime::Builder;
use zokio::runtime::Runtime;
use zokio::signal::unix::{signal, Signal, SignalKind};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn raise(signum: libc::c_int) {
    // SAFETY: kill with our own pid and a valid signal number.
    let rc = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(rc, 0, "kill failed: {}", std::io::Error::last_os_error());
}

fn listen(rt: &Runtime, kind: SignalKind) -> Signal {
    rt.block_on(async { signal(kind).expect("listening") })
}

/// Wait (on `rt`) for `sig`'s next delivery; a hang fails after the guard.
fn expect_delivery(what: &str, rt: &Runtime, sig: &mut Signal) {
    let got = rt.block_on(async { zokio::time::timeout(HANG_GUARD, sig.recv()).await });
    assert_eq!(got, Ok(Some(())), "{what}: no delivery");
}

fn pair_of(name: &str) -> (Runtime, Runtime) {
    let build = || match name {
        "current_thread" => common::current_thread(),
        "multi_thread(2)" => common::multi_thread(2),
        _ => common::thread_per_core(2),
    };
    (build(), build())
}

#[cfg(target_os = "linux")]
fn is_blocked(signum: libc::c_int) -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: a null new set only reads this thread's mask into `set`.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), set.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: filled by the successful call.
    unsafe { libc::sigismember(set.as_ptr(), signum) == 1 }
}

#[test]
fn usr1_reaches_listeners_in_two_runtimes_and_two_in_one() {
    timed(|| {
        let _serial = serial();
        for (name, _) in flavors_named() {
            let (a, b) = pair_of(name);
            let mut in_a = listen(&a, SignalKind::user_defined1());
            let mut in_b = listen(&b, SignalKind::user_defined1());
            let mut also_in_b = listen(&b, SignalKind::user_defined1());
            raise(libc::SIGUSR1);
            expect_delivery(name, &a, &mut in_a);
            expect_delivery(name, &b, &mut in_b);
            expect_delivery(name, &b, &mut also_in_b);
            // And once more, with the listeners waiting in tasks at the same time.
            let tasks: Vec<_> = [(&a, in_a), (&b, in_b), (&b, also_in_b)]
                .into_iter()
                .map(|(rt, mut sig)| {
                    rt.spawn(async move { zokio::time::timeout(HANG_GUARD, sig.recv()).await })
                })
                .collect();
            raise(libc::SIGUSR1);
            for (i, task) in tasks.into_iter().enumerate() {
                let rt = if i == 0 { &a } else { &b };
                let got = rt.block_on(task).expect("listener task");
                assert_eq!(got, Ok(Some(())), "{name}: listener {i} in a task");
            }
        }
    });
}

/// Reports, once, that the future it wraps was polled (so a `ctrl_c()` listens).
struct Armed<F> {
    future: Pin<Box<F>>,
    armed: Option<std::sync::mpsc::Sender<()>>,
}

impl<F: Future> Future for Armed<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let out = self.future.as_mut().poll(cx);
        if let Some(tx) = self.armed.take() {
            let _ = tx.send(());
        }
        out
    }
}

#[test]
fn ctrl_c_reaches_two_runtimes_and_two_waiters_in_one() {
    timed(|| {
        let _serial = serial();
        for (name, _) in flavors_named() {
            let (a, b) = pair_of(name);
            // Keeps SIGINT from ending the test process whatever happens below.
            let _keep = listen(&a, SignalKind::interrupt());
            let (tx, armed) = std::sync::mpsc::channel();
            let waiters: Vec<_> = [&a, &b, &b]
                .into_iter()
                .map(|rt| {
                    let future = Armed {
                        future: Box::pin(zokio::signal::ctrl_c()),
                        armed: Some(tx.clone()),
                    };
                    (
                        rt,
                        rt.spawn(async move { zokio::time::timeout(HANG_GUARD, future).await }),
                    )
                })
                .collect();
            // Current-thread runtimes only poll inside `block_on`: drive them until
            // every `ctrl_c()` has been polled once, and so listens.
            let mut polled = 0;
            let deadline = Instant::now() + HANG_GUARD;
            while polled < 3 {
                assert!(Instant::now() < deadline, "{name}: ctrl_c() never polled");
                for rt in [&a, &b] {
                    rt.block_on(zokio::time::sleep(Duration::from_millis(1)));
                }
                while armed.try_recv().is_ok() {
                    polled += 1;
                }
            }
            raise(libc::SIGINT);
            for (i, (rt, waiter)) in waiters.into_iter().enumerate() {
                let got = rt.block_on(waiter).expect("ctrl_c task");
                match got {
                    Ok(Ok(())) => {}
                    other => panic!("{name}: ctrl_c waiter {i} got {other:?}"),
                }
            }
        }
    });
}

#[test]
fn a_burst_of_a_thousand_loses_no_wake_up() {
    timed(|| {
        let _serial = serial();
        for (name, rt) in flavors_named() {
            let mut sig = listen(&rt, SignalKind::user_defined1());
            let count = Arc::new(AtomicUsize::new(0));
            let counted = count.clone();
            let listener = rt.spawn(async move {
                while sig.recv().await.is_some() {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            });
            rt.block_on(async {
                let (done, finished) = zokio::sync::oneshot::channel();
                std::thread::spawn(move || {
                    for _ in 0..999 {
                        raise(libc::SIGUSR1);
                    }
                    let _ = done.send(());
                });
                finished.await.expect("burst thread");
                // The last one: whatever was counted so far, it must be counted after.
                let before = count.load(Ordering::SeqCst);
                raise(libc::SIGUSR1);
                let deadline = Instant::now() + HANG_GUARD;
                while count.load(Ordering::SeqCst) <= before {
                    assert!(
                        Instant::now() < deadline,
                        "{name}: the delivery after the last signal was lost"
                    );
                    zokio::time::sleep(Duration::from_millis(1)).await;
                }
            });
            assert!(count.load(Ordering::SeqCst) >= 1);
            listener.abort();
            let _ = rt.block_on(listener);
        }
    });
}

#[test]
fn a_signal_raised_right_after_signal_returns_is_seen() {
    timed(|| {
        let _serial = serial();
        for (name, rt) in flavors_named() {
            for round in 0..50 {
                // No listener of SIGUSR2 survives a round: each one installs afresh.
                rt.block_on(async {
                    let mut sig = signal(SignalKind::user_defined2()).expect("listening");
                    raise(libc::SIGUSR2);
                    let got = zokio::time::timeout(HANG_GUARD, sig.recv()).await;
                    assert_eq!(got, Ok(Some(())), "{name}, round {round}");
                });
            }
        }
    });
}

// Runtime threads block listened signals only where signalfd takes them: Linux.
#[cfg(target_os = "linux")]
#[test]
fn only_runtime_threads_have_their_mask_changed() {
    timed(|| {
        let _serial = serial();
        for (name, rt) in flavors_named() {
            let test_thread_before = is_blocked(libc::SIGUSR1);
            let mut sig = listen(&rt, SignalKind::user_defined1());
            let std_thread = std::thread::spawn(|| is_blocked(libc::SIGUSR1))
                .join()
                .unwrap();
            assert_eq!(
                std_thread,
                common::blocked_at_start(libc::SIGUSR1),
                "{name}: a std thread's mask changed"
            );
            assert_eq!(
                is_blocked(libc::SIGUSR1),
                test_thread_before,
                "{name}: test thread"
            );
            // A blocking-pool thread is the runtime's own: it blocks the signal.
            let pool = rt.block_on(rt.spawn_blocking(|| is_blocked(libc::SIGUSR1)));
            assert!(
                pool.unwrap(),
                "{name}: a blocking-pool thread does not block it"
            );
            // Still delivered while runtime threads block it.
            raise(libc::SIGUSR1);
            expect_delivery(name, &rt, &mut sig);
            drop(sig);
        }
    });
}

// Runtime threads block listened signals only where signalfd takes them: Linux.
#[cfg(target_os = "linux")]
#[test]
fn a_worker_blocks_while_it_listens_and_unblocks_after() {
    timed(|| {
        let _serial = serial();
        for name in ["multi_thread(1)", "thread_per_core(1)"] {
            let rt = worker_runtime(name);
            let (listening, after) = rt
                .block_on(rt.spawn(async {
                    let sig = signal(SignalKind::user_defined2()).expect("listening");
                    let listening = is_blocked(libc::SIGUSR2);
                    drop(sig);
                    (listening, is_blocked(libc::SIGUSR2))
                }))
                .unwrap();
            assert!(
                listening,
                "{name}: the worker does not block a listened signal"
            );
            assert_eq!(
                after,
                common::blocked_at_start(libc::SIGUSR2),
                "{name}: the worker's mask is not back to what it was after the last listener"
            );
        }
    });
}

#[cfg(target_os = "linux")]
fn worker_runtime(name: &str) -> Runtime {
    let mut builder = if name.starts_with("multi") {
        Builder::new_multi_thread()
    } else {
        Builder::new_thread_per_core()
    };
    builder.worker_threads(1).enable_all().build().unwrap()
}

/// A signal sent to the runtime's only worker, which blocks it, waits in the signalfd
/// and is read there by the runtime's reader.
// Runtime threads block listened signals only where signalfd takes them: Linux.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_sent_to_a_worker_arrives_through_the_signalfd() {
    timed(|| {
        let _serial = serial();
        for name in ["multi_thread(1)", "thread_per_core(1)"] {
            let rt = worker_runtime(name);
            let got = rt
                .block_on(rt.spawn(async {
                    let mut sig = signal(SignalKind::user_defined2()).expect("listening");
                    assert!(is_blocked(libc::SIGUSR2));
                    raise_on_this_thread(libc::SIGUSR2);
                    let got = zokio::time::timeout(HANG_GUARD, sig.recv()).await;
                    got
                }))
                .unwrap();
            assert_eq!(got, Ok(Some(())), "{name}");
        }
    });
}

/// Send `signum` to the calling thread only (not to the process).
#[cfg(target_os = "linux")]
fn raise_on_this_thread(signum: libc::c_int) {
    // SAFETY: tgkill to this very thread with a valid signal.
    let rc = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), libc::gettid(), signum) };
    assert_eq!(rc, 0, "tgkill");
}

/// A signal still waiting on a worker when the last listener goes is taken off it
/// before the worker unblocks it, instead of meeting the restored default (which
/// would end the process).
// Runtime threads block listened signals only where signalfd takes them: Linux.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_left_on_a_worker_does_not_outlive_the_last_listener() {
    timed(|| {
        let _serial = serial();
        for name in ["multi_thread(1)", "thread_per_core(1)"] {
            let rt = worker_runtime(name);
            let after = rt
                .block_on(rt.spawn(async {
                    let sig = signal(SignalKind::user_defined2()).expect("listening");
                    raise_on_this_thread(libc::SIGUSR2);
                    // No await since: the reader, on this same worker, has not read it.
                    drop(sig);
                    is_blocked(libc::SIGUSR2)
                }))
                .unwrap();
            assert_eq!(after, common::blocked_at_start(libc::SIGUSR2), "{name}");
        }
    });
}

#[test]
fn dropping_a_runtime_leaves_the_other_runtimes_listening() {
    timed(|| {
        let _serial = serial();
        for (name, _) in flavors_named() {
            let (a, b) = pair_of(name);
            let mut in_a = listen(&a, SignalKind::user_defined1());
            let mut in_b = listen(&b, SignalKind::user_defined1());
            raise(libc::SIGUSR1);
            expect_delivery(name, &a, &mut in_a);
            drop(a);
            // The dropped runtime's listener ends instead of waiting for ever.
            assert_eq!(futures::executor::block_on(in_a.recv()), None, "{name}");
            raise(libc::SIGUSR1);
            expect_delivery(name, &b, &mut in_b);
        }
    });
}

#[test]
fn a_listener_of_a_shut_down_runtime_ends() {
    timed(|| {
        let _serial = serial();
        for (name, rt) in flavors_named() {
            let mut sig = listen(&rt, SignalKind::user_defined1());
            drop(rt);
            let got = futures::executor::block_on(sig.recv());
            assert_eq!(got, None, "{name}");
        }
    });
}

#[test]
fn bad_signals_are_errors_that_say_why() {
    let rt = common::current_thread();
    rt.block_on(async {
        for (signum, says) in [
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGSTOP, "SIGSTOP"),
            (libc::SIGILL, "SIGILL"),
            (libc::SIGFPE, "SIGFPE"),
            (libc::SIGSEGV, "SIGSEGV"),
            (0, "out of range"),
            (-1, "out of range"),
            (1000, "out of range"),
            // Linux's C library keeps 32 and 33 for its threads.
            #[cfg(target_os = "linux")]
            (32, "reserved"),
        ] {
            let err = signal(SignalKind::from_raw(signum)).expect_err("a bad signal");
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{signum}");
            let message = err.to_string();
            assert!(message.contains(says), "{signum}: {message}");
        }
    });
}

#[test]
fn outside_a_runtime_is_an_error() {
    let err = signal(SignalKind::hangup()).expect_err("no runtime");
    assert!(err.to_string().contains("needs a Zokio runtime"), "{err}");
    let err = futures::executor::block_on(zokio::signal::ctrl_c()).expect_err("no runtime");
    assert!(err.to_string().contains("needs a Zokio runtime"), "{err}");
}

#[test]
fn signal_kind_is_tokios() {
    let named = [
        (SignalKind::alarm(), libc::SIGALRM),
        (SignalKind::child(), libc::SIGCHLD),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::io(), libc::SIGIO),
        (SignalKind::pipe(), libc::SIGPIPE),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::user_defined1(), libc::SIGUSR1),
        (SignalKind::user_defined2(), libc::SIGUSR2),
        (SignalKind::window_change(), libc::SIGWINCH),
    ];
    for (kind, signum) in named {
        assert_eq!(kind.as_raw_value(), signum);
        assert_eq!(SignalKind::from(signum), kind);
        assert_eq!(libc::c_int::from(kind), signum);
        assert_eq!(SignalKind::from_raw(signum), kind);
    }
}
