//! Signals interrupting a worker's sleep in the kernel (`EINTR` from `epoll_wait` or
//! `io_uring_enter`) and its system calls must not fail or lose operations: a
//! reader parked on an empty pipe keeps waiting through a storm of signals and gets
//! its data once it is written.

// The storm targets one thread by its kernel id (`tgkill`, `gettid`): Linux only.
#![cfg(target_os = "linux")]

mod common;
mod io_common;

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{run_with_timeout, BODY_GUARD};
use io_common::{pipe, write_all_sync};
use zokio::io::ops;

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Install a handler without `SA_RESTART`, so blocking calls really see `EINTR`.
fn install_handler() {
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask is well
    // formed; the handler does nothing, so it is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
}

#[test]
fn signals_do_not_break_parked_operations() {
    install_handler();
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in common::flavors_named() {
            for round in 0..20 {
                let (r, w) = pipe();
                let tid = Arc::new(AtomicI32::new(0));
                let stop = Arc::new(AtomicBool::new(false));
                let storm = std::thread::spawn({
                    let (stop, tid) = (stop.clone(), tid.clone());
                    move || {
                        // SAFETY: getpid is always safe.
                        let pid = unsafe { libc::getpid() };
                        while !stop.load(Ordering::SeqCst) {
                            let target = tid.load(Ordering::SeqCst);
                            if target != 0 {
                                // SAFETY: signalling a thread of our own process with a
                                // signal whose handler is installed; a thread that has
                                // exited just makes the call fail.
                                unsafe {
                                    libc::syscall(libc::SYS_tgkill, pid, target, libc::SIGUSR1)
                                };
                            }
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                });
                let (res, buf) = rt.block_on(async {
                    let reader = zokio::spawn({
                        let tid = tid.clone();
                        async move {
                            // SAFETY: plain system call without arguments.
                            tid.store(unsafe { libc::gettid() }, Ordering::SeqCst);
                            ops::read(r.as_fd(), Vec::with_capacity(16)).await
                        }
                    });
                    // Let the reader's thread park and be interrupted many times.
                    zokio::time::sleep(Duration::from_millis(10)).await;
                    write_all_sync(w.as_raw_fd(), b"after the storm");
                    reader.await.unwrap()
                });
                stop.store(true, Ordering::SeqCst);
                storm.join().unwrap();
                let n = res.unwrap_or_else(|e| panic!("{name} round {round}: {e}"));
                assert_eq!(&buf[..n], b"after the storm", "{name} round {round}");
            }
        }
    });
}
