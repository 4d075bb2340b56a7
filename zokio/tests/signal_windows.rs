//! `zokio::signal` on Windows (run under Wine in CI): console control events reach
//! every listener of that event in every runtime and no other, events between two
//! `recv`s coalesce, the handler declines events nobody listens for (and does again
//! once the last listener went), `signal::ctrl_c()` completes, a listener of a
//! runtime that shut down ends, and outside a runtime is an error.
//!
//! The system's own thread runs the handler for a real event; most tests call the
//! same code through `deliver_console_event` instead, since a test cannot make
//! the system send CLOSE, LOGOFF or SHUTDOWN events. A real Ctrl-C and Ctrl-Break,
//! sent with `GenerateConsoleCtrlEvent` by a copy of this binary with a console of
//! its own, are tried at the end (Ctrl-Break is ignored: Wine refuses to send it).
//!
//! Events are process-wide: every test takes `SERIAL` so that one test's events never
//! land in another's listeners.

#![cfg(windows)]

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use common::{flavors_named, timed, HANG_GUARD};
use windows_sys::Win32::System::Console::{
    GenerateConsoleCtrlEvent, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
};
use zokio::runtime::Runtime;
use zokio::signal::windows::{
    ctrl_break, ctrl_c, ctrl_close, ctrl_logoff, ctrl_shutdown, deliver_console_event, CtrlC,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `poll` is ready right now, polled once with a waker that does nothing.
fn ready_now<T>(poll: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Option<T> {
    let waker = futures::task::noop_waker();
    match poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Wait (on `rt`) for the next event of `listener`; a hang fails after the guard.
fn expect_event(what: &str, rt: &Runtime, listener: &mut CtrlC) {
    let got = rt.block_on(async { zokio::time::timeout(HANG_GUARD, listener.recv()).await });
    assert_eq!(got, Ok(Some(())), "{what}: no event");
}

#[test]
fn ctrl_c_reaches_two_runtimes_and_two_listeners_in_one() {
    let _serial = serial();
    timed(|| {
        let mut flavors = flavors_named();
        let (name_b, rt_b) = flavors.pop().unwrap();
        let (name_a, rt_a) = flavors.pop().unwrap();
        let mut a1 = rt_a.block_on(async { ctrl_c().unwrap() });
        let mut a2 = rt_a.block_on(async { ctrl_c().unwrap() });
        let mut b = rt_b.block_on(async { ctrl_c().unwrap() });
        assert!(
            deliver_console_event(CTRL_C_EVENT),
            "a listened event must be taken"
        );
        expect_event(&format!("{name_a}, first"), &rt_a, &mut a1);
        expect_event(&format!("{name_a}, second"), &rt_a, &mut a2);
        expect_event(name_b, &rt_b, &mut b);
        // Reported once: nothing more until the next event.
        assert_eq!(ready_now(|cx| a1.poll_recv(cx)), None);
        // Two events between two `recv`s coalesce into one.
        assert!(deliver_console_event(CTRL_C_EVENT));
        assert!(deliver_console_event(CTRL_C_EVENT));
        expect_event("after two", &rt_a, &mut a1);
        assert_eq!(ready_now(|cx| a1.poll_recv(cx)), None);
    });
}

#[test]
fn each_event_reaches_its_own_listeners_only() {
    let _serial = serial();
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut c = ctrl_c().unwrap();
                let mut brk = ctrl_break().unwrap();
                let mut close = ctrl_close().unwrap();
                let mut logoff = ctrl_logoff().unwrap();
                let mut shutdown = ctrl_shutdown().unwrap();
                let events = [
                    CTRL_C_EVENT,
                    CTRL_BREAK_EVENT,
                    CTRL_CLOSE_EVENT,
                    CTRL_LOGOFF_EVENT,
                    CTRL_SHUTDOWN_EVENT,
                ];
                for (i, event) in events.into_iter().enumerate() {
                    assert!(
                        deliver_console_event(event),
                        "on {name}: event {event} declined"
                    );
                    let seen = [
                        ready_now(|cx| c.poll_recv(cx)).is_some(),
                        ready_now(|cx| brk.poll_recv(cx)).is_some(),
                        ready_now(|cx| close.poll_recv(cx)).is_some(),
                        ready_now(|cx| logoff.poll_recv(cx)).is_some(),
                        ready_now(|cx| shutdown.poll_recv(cx)).is_some(),
                    ];
                    let mut want = [false; 5];
                    want[i] = true;
                    assert_eq!(seen, want, "on {name}: event {event}");
                }
            });
        }
    });
}

#[test]
fn events_without_a_listener_are_declined() {
    let _serial = serial();
    timed(|| {
        let rt = common::current_thread();
        assert!(!deliver_console_event(CTRL_BREAK_EVENT));
        let listener = rt.block_on(async { ctrl_break().unwrap() });
        assert!(deliver_console_event(CTRL_BREAK_EVENT));
        // Another event still has no listener; nor has an event Zokio has no type for.
        assert!(!deliver_console_event(CTRL_C_EVENT));
        assert!(!deliver_console_event(3));
        drop(listener);
        assert!(!deliver_console_event(CTRL_BREAK_EVENT));
    });
}

#[test]
fn signal_ctrl_c_completes() {
    let _serial = serial();
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let task = zokio::spawn(zokio::signal::ctrl_c());
                // The listener exists once the task first ran: until then the event
                // is declined (and not counted).
                let start = std::time::Instant::now();
                while !deliver_console_event(CTRL_C_EVENT) {
                    assert!(
                        start.elapsed() < HANG_GUARD,
                        "on {name}: ctrl_c never listened"
                    );
                    zokio::task::yield_now().await;
                }
                let done = zokio::time::timeout(HANG_GUARD, task).await;
                done.expect("ctrl_c did not complete").unwrap().unwrap();
                // Completed and dropped: the event ends the process again.
                assert!(!deliver_console_event(CTRL_C_EVENT), "on {name}");
            });
        }
    });
}

#[test]
fn a_listener_of_a_shut_down_runtime_ends() {
    let _serial = serial();
    timed(|| {
        for (name, rt) in flavors_named() {
            let mut listener = rt.block_on(async { ctrl_close().unwrap() });
            drop(rt);
            let mut recv = pin!(listener.recv());
            let ended = ready_now(|cx| recv.as_mut().poll(cx));
            assert_eq!(ended, Some(None), "on {name}");
        }
    });
}

#[test]
fn outside_a_runtime_is_an_error() {
    let err = ctrl_c().unwrap_err();
    assert!(err.to_string().contains("needs a Zokio runtime"), "{err}");
    let err = ctrl_shutdown().unwrap_err();
    assert!(err.to_string().contains("ctrl_shutdown"), "{err}");
}

const ROLE_ENV: &str = "ZOKIO_TEST_GENERATE_EVENT";

/// Not a test of its own: in a copy of this binary started with a console of its own
/// (`ZOKIO_TEST_GENERATE_EVENT` set to the event's code), listen for the event, make
/// the system send it to this console (`GenerateConsoleCtrlEvent`, run by the
/// system's handler thread) and exit 0 once the listener saw it; without the
/// variable, it returns at once.
#[test]
fn generate_event_in_own_console() {
    let Ok(event) = std::env::var(ROLE_ENV) else {
        return;
    };
    let event: u32 = event.parse().unwrap();
    let rt = common::multi_thread(2);
    let mut c = rt.block_on(async { ctrl_c().unwrap() });
    let mut brk = rt.block_on(async { ctrl_break().unwrap() });
    // SAFETY: plain values; group 0 is every process of this console.
    let sent = unsafe { GenerateConsoleCtrlEvent(event, 0) };
    if sent == 0 {
        eprintln!(
            "GenerateConsoleCtrlEvent: {}",
            std::io::Error::last_os_error()
        );
        std::process::exit(2);
    }
    let got = rt.block_on(async {
        zokio::time::timeout(HANG_GUARD, async {
            if event == CTRL_C_EVENT {
                c.recv().await
            } else {
                brk.recv().await
            }
        })
        .await
    });
    std::process::exit(if got == Ok(Some(())) { 0 } else { 3 });
}

/// Run `generate_event_in_own_console` for `event` in a child with a new console.
fn generated(event: u32) {
    use std::os::windows::process::CommandExt;
    // `CREATE_NEW_CONSOLE`: the child gets a console of its own, so the event reaches
    // it and nothing else.
    const CREATE_NEW_CONSOLE: u32 = 0x10;
    let out = timed(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["generate_event_in_own_console", "--exact", "--nocapture"])
            .env(ROLE_ENV, event.to_string())
            .creation_flags(CREATE_NEW_CONSOLE)
            .output()
            .unwrap()
    });
    assert!(
        out.status.success(),
        "event {event} from the system: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_generated_ctrl_c_arrives() {
    generated(CTRL_C_EVENT);
}

#[test]
#[ignore = "Wine 8's console refuses GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT) with \
            ERROR_INVALID_HANDLE, to a process group or to 0 alike (its Ctrl-C works)"]
fn a_generated_ctrl_break_arrives() {
    generated(CTRL_BREAK_EVENT);
}
