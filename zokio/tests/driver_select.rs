//! Choosing the I/O driver: `Builder::driver(Driver::Auto | IoUring | Epoll | Poll)`, the
//! `Config` trait's driver choice, and the fall-back from io_uring to epoll when a
//! ring cannot be set up (simulated with `simulate_io_uring_setup_failure`), on every
//! scheduler flavour. Every runtime built here is then used for real I/O.
//!
//! Tests here force drivers explicitly, so they do the same under either
//! `ZOKIO_DRIVER` leg of CI, except the one that checks what an unset builder choice
//! does (it follows the environment). They hold one lock so the descriptor count of
//! the process is stable for the leak check.

// io_uring and epoll, the drivers chosen between here, are Linux only.
#![cfg(target_os = "linux")]

mod common;
mod io_common;

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::builders;
use io_common::*;
use zokio::io::ops;
use zokio::runtime::{Builder, Driver, DriverKind, Handle, Runtime};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const SIMULATED: [(i32, &str); 3] = [
    (libc::EPERM, "EPERM"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::ENOMEM, "ENOMEM"),
];

/// Whether this machine lets us set up io_uring at all (sandboxes may not).
fn io_uring_available() -> bool {
    Builder::new_current_thread()
        .driver(Driver::IoUring)
        .build()
        .is_ok()
}

/// Real work on `rt`: a pipe round trip between two tasks, a file round trip, a nop
/// and a kernel timeout, checking the driver seen from inside.
fn exercise(what: &str, rt: &Runtime, expected: DriverKind) {
    assert_eq!(rt.driver_kind(), expected, "{what}: Runtime::driver_kind");
    assert_eq!(
        rt.handle().driver_kind(),
        expected,
        "{what}: Handle::driver_kind"
    );
    let tmp = TempFile::new("select");
    let fd = tmp.file.as_fd();
    let before = rt.io_counters();
    rt.block_on(async {
        assert_eq!(Handle::current().driver_kind(), expected, "{what}: inside");
        ops::nop().await.unwrap();
        let start = Instant::now();
        ops::timeout(Duration::from_millis(5)).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(5),
            "{what}: timeout"
        );

        let (r, w) = pipe();
        let data = random_bytes(3, 100_000);
        let sent = data.clone();
        let writer = zokio::spawn(async move {
            let mut done = 0;
            while done < sent.len() {
                let (res, _) = ops::write(w.as_fd(), sent[done..].to_vec()).await;
                done += res.expect("pipe write");
            }
        });
        let reader = zokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let (res, buf) = ops::read(r.as_fd(), Vec::with_capacity(16 * 1024)).await;
                if res.expect("pipe read") == 0 {
                    return got;
                }
                got.extend_from_slice(&buf);
            }
        });
        writer.await.unwrap();
        assert!(reader.await.unwrap() == data, "{what}: pipe data differs");

        // A read of an empty pipe cannot finish on the spot: whatever the workers did
        // above, this one is handed to the driver, which then completes it.
        let (r, w) = pipe();
        let mut read = Box::pin(ops::read(r.as_fd(), Vec::with_capacity(8)));
        assert!(
            futures::poll!(read.as_mut()).is_pending(),
            "{what}: a read of an empty pipe finished"
        );
        write_all_sync(w.as_raw_fd(), b"x");
        let (res, _) = read.await;
        assert_eq!(res.unwrap(), 1, "{what}: the waiting read");

        let (res, _) = ops::write_at(fd, b"driver".to_vec(), 10).await;
        assert_eq!(res.unwrap(), 6, "{what}");
        let (res, buf) = ops::read_at(fd, Vec::with_capacity(6), 10).await;
        assert_eq!(res.unwrap(), 6, "{what}");
        assert_eq!(buf, b"driver", "{what}");
    });
    // The waiting read at least was handed to the driver, so each driver entered the
    // kernel, handed it work and took completions back.
    let spent = rt.io_counters() - before;
    assert!(
        spent.kernel_calls > 0,
        "{what}: no kernel calls in {spent:?}"
    );
    assert!(
        spent.submitted > 0,
        "{what}: nothing submitted in {spent:?}"
    );
    assert!(
        spent.completed > 0,
        "{what}: nothing completed in {spent:?}"
    );
    assert_eq!(rt.handle().io_counters(), rt.io_counters(), "{what}");
}

#[test]
fn forced_epoll_on_every_flavor() {
    let _serial = serial();
    for (name, mut builder) in builders() {
        let rt = builder
            .driver(Driver::Epoll)
            .build()
            .unwrap_or_else(|e| panic!("{name}: forced epoll failed to build: {e}"));
        exercise(&format!("{name} forced epoll"), &rt, DriverKind::Epoll);
    }
}

#[test]
fn forced_poll_on_every_flavor() {
    let _serial = serial();
    for (name, mut builder) in builders() {
        let rt = builder
            .driver(Driver::Poll)
            .build()
            .unwrap_or_else(|e| panic!("{name}: forced poll failed to build: {e}"));
        exercise(&format!("{name} forced poll"), &rt, DriverKind::Poll);
    }
}

/// Where neither a ring nor epoll can be set up, Auto ends on poll.
#[test]
fn auto_falls_back_to_poll_when_epoll_fails_too() {
    let _serial = serial();
    for (name, mut builder) in builders() {
        let rt = builder
            .driver(Driver::Auto)
            .simulate_io_uring_setup_failure(libc::ENOSYS)
            .simulate_epoll_setup_failure(libc::EMFILE)
            .build()
            .unwrap_or_else(|e| panic!("{name}: auto with no io_uring or epoll: {e}"));
        exercise(
            &format!("{name} auto, falling back to poll"),
            &rt,
            DriverKind::Poll,
        );
    }
}

#[test]
fn forced_io_uring_on_every_flavor() {
    let _serial = serial();
    if !io_uring_available() {
        eprintln!(
            "note: io_uring cannot be set up here (sandbox?); skipping the forced io_uring test"
        );
        return;
    }
    for (name, mut builder) in builders() {
        let rt = match builder.driver(Driver::IoUring).build() {
            Ok(rt) => rt,
            Err(e) => {
                panic!("{name}: io_uring works for current_thread here but not for {name}: {e}")
            }
        };
        exercise(&format!("{name} forced io_uring"), &rt, DriverKind::IoUring);
    }
}

#[test]
fn auto_prefers_io_uring_where_available() {
    let _serial = serial();
    let expected = if io_uring_available() {
        DriverKind::IoUring
    } else {
        DriverKind::Epoll
    };
    for (name, mut builder) in builders() {
        let rt = builder.driver(Driver::Auto).build().unwrap();
        exercise(&format!("{name} auto"), &rt, expected);
    }
    assert_eq!(
        Driver::default(),
        Driver::Auto,
        "Auto is the default choice"
    );
}

#[test]
fn auto_falls_back_to_epoll_when_io_uring_setup_fails() {
    let _serial = serial();
    for (errno, errname) in SIMULATED {
        for (name, mut builder) in builders() {
            let rt = builder
                .driver(Driver::Auto)
                .simulate_io_uring_setup_failure(errno)
                .build()
                .unwrap_or_else(|e| panic!("{name} auto + {errname}: must fall back, got: {e}"));
            exercise(
                &format!("{name} auto + simulated {errname}"),
                &rt,
                DriverKind::Epoll,
            );
        }
    }
}

#[test]
fn forced_io_uring_that_cannot_be_set_up_is_a_helpful_error() {
    let _serial = serial();
    for (errno, errname) in SIMULATED {
        for (name, mut builder) in builders() {
            let err = match builder
                .driver(Driver::IoUring)
                .simulate_io_uring_setup_failure(errno)
                .build()
            {
                Ok(rt) => panic!(
                    "{name} forced io_uring + {errname}: must fail, built a {:?} runtime",
                    rt.driver_kind()
                ),
                Err(e) => e,
            };
            let what = format!("{name} forced io_uring + {errname}");
            let msg = err.to_string();
            assert!(
                msg.contains("io_uring"),
                "{what}: must name io_uring: {msg}"
            );
            assert!(
                msg.contains("epoll"),
                "{what}: must say how to use epoll: {msg}"
            );
            assert!(
                msg.contains("ZOKIO_DRIVER") || msg.contains("Driver::Epoll"),
                "{what}: must name the switch (ZOKIO_DRIVER or Driver::Epoll): {msg}"
            );
            let (kind, reason): (io::ErrorKind, &[&str]) = match errno {
                libc::EPERM => (
                    io::ErrorKind::PermissionDenied,
                    &["seccomp", "not permitted"],
                ),
                libc::ENOSYS => (io::ErrorKind::Unsupported, &["no io_uring", "kernel"]),
                _ => (io::ErrorKind::OutOfMemory, &["MEMLOCK", "locked-memory"]),
            };
            assert_eq!(
                err.kind(),
                kind,
                "{what}: the OS error's kind is kept: {msg}"
            );
            assert!(
                reason.iter().any(|r| msg.contains(r)),
                "{what}: must explain the cause (one of {reason:?}): {msg}"
            );
            // Following the advice works, with the very same builder.
            let rt = builder
                .driver(Driver::Epoll)
                .build()
                .unwrap_or_else(|e| panic!("{what}: then Driver::Epoll failed too: {e}"));
            exercise(&format!("{what}, then epoll"), &rt, DriverKind::Epoll);
        }
    }
}

/// Without a builder choice, `ZOKIO_DRIVER` decides (CI sets it to each driver).
#[test]
fn unset_builder_choice_follows_the_environment() {
    let _serial = serial();
    let env = std::env::var("ZOKIO_DRIVER").ok();
    for (name, mut builder) in builders() {
        builder.simulate_io_uring_setup_failure(libc::EPERM);
        let result = builder.build();
        match env.as_deref().map(str::trim) {
            Some("io_uring") => {
                let Err(err) = result else {
                    panic!("{name}: ZOKIO_DRIVER=io_uring with no ring: must fail");
                };
                assert!(err.to_string().contains("epoll"), "{name}: {err}");
            }
            Some("epoll") | Some("auto") | Some("") | None => {
                let rt = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                exercise(&format!("{name} env {env:?}"), &rt, DriverKind::Epoll);
            }
            Some("poll") => {
                let rt = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                exercise(&format!("{name} env {env:?}"), &rt, DriverKind::Poll);
            }
            Some(other) => {
                eprintln!("note: ZOKIO_DRIVER={other:?} is not a driver; see driver_env.rs");
                assert!(
                    result.is_err(),
                    "{name}: ZOKIO_DRIVER={other:?} must be refused"
                );
            }
        }
    }
}

struct EpollConfig;
impl zokio::Config for EpollConfig {
    type Scheduler = zokio::config::MultiThread;
    type Driver = zokio::config::Epoll;
    type Memory = zokio::config::System;
    const WORKER_THREADS: usize = 2;
}

struct PollConfig;
impl zokio::Config for PollConfig {
    type Scheduler = zokio::config::ThreadPerCore;
    type Driver = zokio::config::Poll;
    type Memory = zokio::config::System;
    const WORKER_THREADS: usize = 2;
}

struct UringConfig;
impl zokio::Config for UringConfig {
    type Scheduler = zokio::config::CurrentThread;
    type Driver = zokio::config::IoUring;
    type Memory = zokio::config::System;
}

#[test]
fn config_trait_driver_choice() {
    let _serial = serial();
    assert_eq!(Runtime::<EpollConfig>::INFO.driver, "epoll");
    assert_eq!(Runtime::<UringConfig>::INFO.driver, "io_uring");
    assert_eq!(Runtime::<PollConfig>::INFO.driver, "poll");
    let rt = Runtime::<PollConfig>::with_config().expect("poll config");
    assert_eq!(rt.driver_kind(), DriverKind::Poll);
    rt.block_on(async { ops::timeout(Duration::from_millis(1)).await.unwrap() });
    drop(rt);
    let rt = Runtime::<EpollConfig>::with_config().expect("epoll config");
    assert_eq!(rt.driver_kind(), DriverKind::Epoll);
    rt.block_on(async { ops::nop().await.unwrap() });
    drop(rt);
    match Runtime::<UringConfig>::with_config() {
        Ok(rt) => {
            assert_eq!(rt.driver_kind(), DriverKind::IoUring);
            rt.block_on(async { ops::timeout(Duration::from_millis(1)).await.unwrap() });
        }
        Err(e) => {
            assert!(
                !io_uring_available(),
                "io_uring works here, yet the config failed: {e}"
            );
            eprintln!(
                "note: io_uring unavailable here; the io_uring config failed as it should: {e}"
            );
        }
    }
}

#[test]
fn driver_kind_names() {
    assert_eq!(DriverKind::IoUring.to_string(), "io_uring");
    assert_eq!(DriverKind::Epoll.to_string(), "epoll");
    assert_eq!(DriverKind::Poll.to_string(), "poll");
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Building and dropping runtimes (rings, epoll instances, eventfds) leaks no
/// descriptor, with either driver and after a failed build.
#[test]
fn building_and_dropping_runtimes_leaks_no_descriptors() {
    let _serial = serial();
    let mut choices = vec![Driver::Epoll, Driver::Poll, Driver::Auto];
    if io_uring_available() {
        choices.push(Driver::IoUring);
    }
    // Warm up whatever the process keeps for good (thread-local parkers, ...).
    for choice in &choices {
        for (_, mut builder) in builders() {
            let rt = builder.driver(*choice).build().unwrap();
            rt.block_on(async { ops::nop().await.unwrap() });
        }
    }
    let before = open_descriptors();
    for _ in 0..5 {
        for choice in &choices {
            for (_, mut builder) in builders() {
                let rt = builder.driver(*choice).build().unwrap();
                rt.block_on(async {
                    ops::nop().await.unwrap();
                    ops::timeout(Duration::from_millis(1)).await.unwrap();
                });
            }
        }
        for (_, mut builder) in builders() {
            let failed = builder
                .driver(Driver::IoUring)
                .simulate_io_uring_setup_failure(libc::EPERM)
                .build();
            assert!(failed.is_err());
        }
    }
    let after = open_descriptors();
    assert_eq!(
        after, before,
        "descriptors open before {before}, after building and dropping runtimes {after}"
    );
}
