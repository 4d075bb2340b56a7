//! Dropping the last listener of a signal puts back exactly the disposition it had:
//! `SIG_IGN`, `SIG_DFL`, or a handler of the program's own (which is also still called
//! while Zokio listens). Nothing else in this binary listens, so the dispositions
//! seen here are only this test's doing; the tests take `SERIAL` for the same reason.

// Tests Unix signals (`signal::unix`); Windows' console events are tested in
// `signal_windows.rs`.
#![cfg(unix)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use common::{flavors_named, timed, HANG_GUARD};
use zokio::signal::unix::{signal, SignalKind};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn disposition(signum: libc::c_int) -> libc::sigaction {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: a null new action only reads the current one.
    let rc = unsafe { libc::sigaction(signum, std::ptr::null(), old.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: filled by the successful call.
    unsafe { old.assume_init() }
}

fn set_disposition(signum: libc::c_int, handler: usize, flags: libc::c_int) {
    // SAFETY: all-zero is a valid sigaction; the fields are then set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler;
    action.sa_flags = flags;
    // SAFETY: `action` is valid; the handler, if any, has the form `flags` announce.
    let rc = unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
}

/// The same disposition: handler and flags. `SA_RESTORER` is the C library's own
/// bookkeeping, which it adds to every action it installs (and a disposition never
/// set since the process started does not have yet).
fn same(a: &libc::sigaction, b: &libc::sigaction) -> bool {
    /// Linux's `SA_RESTORER` (the `libc` crate does not export it).
    const SA_RESTORER: libc::c_int = 0x0400_0000;
    let flags = |x: &libc::sigaction| x.sa_flags & !SA_RESTORER;
    a.sa_sigaction == b.sa_sigaction && flags(a) == flags(b)
}

static OWN_CALLS: AtomicUsize = AtomicUsize::new(0);
static OWN_INFO_CALLS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn own_handler(_: libc::c_int) {
    OWN_CALLS.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn own_info_handler(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    if !info.is_null() {
        OWN_INFO_CALLS.fetch_add(1, Ordering::SeqCst);
    }
}

fn raise(signum: libc::c_int) {
    // SAFETY: kill with our own pid and a valid signal number.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signum) }, 0);
}

#[test]
fn the_last_listener_puts_back_the_disposition_it_found() {
    timed(|| {
        let _serial = serial();
        for (name, rt) in flavors_named() {
            // SIG_IGN, a plain handler, a three-argument handler.
            set_disposition(libc::SIGUSR2, libc::SIG_IGN, 0);
            set_disposition(libc::SIGHUP, own_handler as *const () as usize, 0);
            set_disposition(
                libc::SIGWINCH,
                own_info_handler as *const () as usize,
                libc::SA_SIGINFO,
            );
            let before: Vec<_> = [libc::SIGUSR2, libc::SIGHUP, libc::SIGWINCH]
                .into_iter()
                .map(|s| (s, disposition(s)))
                .collect();
            let calls = OWN_CALLS.load(Ordering::SeqCst);
            let info_calls = OWN_INFO_CALLS.load(Ordering::SeqCst);
            rt.block_on(async {
                let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                let usr2_again = signal(SignalKind::user_defined2()).unwrap();
                let mut hup = signal(SignalKind::hangup()).unwrap();
                let mut winch = signal(SignalKind::window_change()).unwrap();
                for (signum, old) in &before {
                    assert!(
                        !same(&disposition(*signum), old),
                        "{name}: listening for {signum} did not install a handler"
                    );
                }
                raise(libc::SIGUSR2);
                raise(libc::SIGHUP);
                raise(libc::SIGWINCH);
                for sig in [&mut usr2, &mut hup, &mut winch] {
                    let got = zokio::time::timeout(HANG_GUARD, sig.recv()).await;
                    assert_eq!(got, Ok(Some(())), "{name}");
                }
                // One of two listeners gone: still installed.
                drop(usr2);
                assert!(!same(&disposition(libc::SIGUSR2), &before[0].1), "{name}");
                drop(usr2_again);
                drop(hup);
                drop(winch);
            });
            // The program's own handlers were chained to while Zokio listened.
            assert!(
                OWN_CALLS.load(Ordering::SeqCst) > calls,
                "{name}: plain handler"
            );
            assert!(
                OWN_INFO_CALLS.load(Ordering::SeqCst) > info_calls,
                "{name}: SA_SIGINFO handler"
            );
            for (signum, old) in &before {
                let now = disposition(*signum);
                assert!(
                    same(&now, old),
                    "{name}: signal {signum} was not put back ({:#x}/{:#x} instead of {:#x}/{:#x})",
                    now.sa_sigaction,
                    now.sa_flags,
                    old.sa_sigaction,
                    old.sa_flags
                );
            }
        }
    });
}

#[test]
fn ctrl_c_puts_back_the_default_once_done() {
    timed(|| {
        let _serial = serial();
        let before = disposition(libc::SIGINT);
        assert_eq!(before.sa_sigaction, libc::SIG_DFL);
        let rt = common::multi_thread(2);
        let waiter =
            rt.spawn(async { zokio::time::timeout(HANG_GUARD, zokio::signal::ctrl_c()).await });
        common::spin_until(HANG_GUARD, "ctrl_c() to listen", || {
            disposition(libc::SIGINT).sa_sigaction != libc::SIG_DFL
        });
        raise(libc::SIGINT);
        let got = rt.block_on(waiter).unwrap();
        assert!(matches!(got, Ok(Ok(()))), "{got:?}");
        let after = disposition(libc::SIGINT);
        assert!(
            same(&after, &before),
            "SIGINT is {:#x}/{:#x}, was {:#x}/{:#x}",
            after.sa_sigaction,
            after.sa_flags,
            before.sa_sigaction,
            before.sa_flags
        );
    });
}
