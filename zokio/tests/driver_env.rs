//! `ZOKIO_DRIVER=auto|io_uring|epoll|poll` picks the driver when the builder does not, and
//! any other value makes `build()` fail with `InvalidInput`. One test function only:
//! it changes the process environment, which no other test in this binary may race
//! with. The original value is restored even if an assertion fails.

// The drivers it chooses between (io_uring, epoll) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::io;
use std::time::Duration;

use common::{builders, EnvVar};
use zokio::io::ops;
use zokio::runtime::{Builder, Driver, DriverKind, Runtime};

const VAR: &str = "ZOKIO_DRIVER";

struct FollowsEnv;
impl zokio::Config for FollowsEnv {
    type Scheduler = zokio::config::CurrentThread;
    type Driver = zokio::config::AutoDriver;
    type Memory = zokio::config::System;
}

fn use_runtime<C: zokio::Config>(what: &str, rt: &Runtime<C>, expected: DriverKind) {
    assert_eq!(rt.driver_kind(), expected, "{what}");
    rt.block_on(async {
        ops::nop().await.unwrap();
        ops::timeout(Duration::from_millis(1)).await.unwrap();
        assert_eq!(
            zokio::runtime::Handle::current().driver_kind(),
            expected,
            "{what}"
        );
    });
}

/// With `VAR` set to `value`, every flavour's `build()` fails with `InvalidInput` and a
/// message naming the variable, the value, the valid drivers and each of `also`.
fn every_builder_refuses(value: &str, also: &[&str]) {
    for (name, mut builder) in builders() {
        let what = format!("{name} with {VAR}={value:?}");
        let err = match builder.build() {
            Ok(rt) => panic!("{what}: must be refused, built {:?}", rt.driver_kind()),
            Err(e) => e,
        };
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{what}: {err}");
        let msg = err.to_string();
        for needle in [VAR, value, "auto", "io_uring", "epoll", "poll"]
            .iter()
            .chain(also)
        {
            assert!(
                msg.contains(needle),
                "{what}: message must mention {needle:?}: {msg}"
            );
        }
    }
}

#[test]
fn zokio_driver_environment_variable() {
    let env = EnvVar::new(VAR);
    // Forced through the builder, so the probe does not read the variable.
    let uring = Builder::new_current_thread()
        .driver(Driver::IoUring)
        .build()
        .is_ok();
    if !uring {
        eprintln!("note: io_uring cannot be set up here; io_uring expectations are skipped");
    }
    let auto = if uring {
        DriverKind::IoUring
    } else {
        DriverKind::Epoll
    };

    let cases: [(Option<&str>, Option<DriverKind>); 5] = [
        (Some("epoll"), Some(DriverKind::Epoll)),
        (Some("poll"), Some(DriverKind::Poll)),
        (Some("io_uring"), uring.then_some(DriverKind::IoUring)),
        (Some("auto"), Some(auto)),
        (None, Some(auto)),
    ];
    for (value, expected) in cases {
        env.set(value);
        for (name, mut builder) in builders() {
            let what = format!("{name} with {VAR}={value:?}");
            match (builder.build(), expected) {
                (Ok(rt), Some(kind)) => use_runtime(&what, &rt, kind),
                (Err(e), None) => assert!(e.to_string().contains("epoll"), "{what}: {e}"),
                (Ok(rt), None) => panic!("{what}: built a {:?} runtime", rt.driver_kind()),
                (Err(e), Some(_)) => panic!("{what}: build failed: {e}"),
            }
        }
        // A `Config` whose driver is `AutoDriver` follows the variable too.
        match (Runtime::<FollowsEnv>::with_config(), expected) {
            (Ok(rt), Some(kind)) => use_runtime(&format!("config, {value:?}"), &rt, kind),
            (Err(_), None) => {}
            (Ok(rt), None) => panic!("config, {value:?}: built {:?}", rt.driver_kind()),
            (Err(e), Some(_)) => panic!("config, {value:?}: {e}"),
        }
    }

    // Not a driver: refused, with a message that lists the valid values.
    for bogus in ["bogus", "iouring2"] {
        env.set(Some(bogus));
        every_builder_refuses(bogus, &[]);
        let Err(err) = Runtime::<FollowsEnv>::with_config() else {
            panic!("a config following {VAR}={bogus:?} must be refused");
        };
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "config: {err}");
    }

    // Another platform's driver: refused, saying so, with this platform's drivers.
    for foreign in ["kqueue", "iocp"] {
        env.set(Some(foreign));
        every_builder_refuses(foreign, &["does not have"]);
    }

    // A builder choice wins over the variable, even over a bogus one.
    env.set(Some("bogus"));
    for (driver, kind) in [
        (Driver::Epoll, DriverKind::Epoll),
        (Driver::Poll, DriverKind::Poll),
    ] {
        for (name, mut builder) in builders() {
            let rt = builder
                .driver(driver)
                .build()
                .unwrap_or_else(|e| panic!("{name}: {driver:?} with {VAR}=bogus: {e}"));
            use_runtime(&format!("{name} builder {kind} over env bogus"), &rt, kind);
        }
    }
    if uring {
        env.set(Some("epoll"));
        for (name, mut builder) in builders() {
            let rt = builder.driver(Driver::IoUring).build().unwrap();
            use_runtime(
                &format!("{name} builder io_uring over env epoll"),
                &rt,
                DriverKind::IoUring,
            );
        }
    }

    // The variable and a ring that cannot be set up.
    for (value, fails) in [("epoll", false), ("auto", false), ("io_uring", true)] {
        env.set(Some(value));
        for (name, mut builder) in builders() {
            let what = format!("{name} with {VAR}={value} and io_uring failing (EPERM)");
            let result = builder.simulate_io_uring_setup_failure(libc::EPERM).build();
            match (result, fails) {
                (Ok(rt), false) => use_runtime(&what, &rt, DriverKind::Epoll),
                (Err(e), true) => {
                    let msg = e.to_string();
                    assert!(msg.contains("epoll") && msg.contains(VAR), "{what}: {msg}");
                }
                (Ok(rt), true) => panic!("{what}: built {:?}", rt.driver_kind()),
                (Err(e), false) => panic!("{what}: {e}"),
            }
        }
    }
}
