//! Windows' driver choice: `Driver::Auto`, `Driver::Iocp`, `config::Iocp` and
//! `ZOKIO_DRIVER=iocp` all give the IOCP driver, which serves wake-ups and timers
//! on every flavour; a Unix driver's name in `ZOKIO_DRIVER` is an error that says
//! this platform lacks it and names `iocp`. One test function: it changes the
//! process environment, which no other test here may race with.
#![cfg(windows)]

mod common;

use std::io;
use std::time::Duration;

use common::{builders, EnvVar};
use zokio::io::ops;
use zokio::runtime::{Driver, DriverKind, Runtime};

struct IocpConfig;
impl zokio::Config for IocpConfig {
    type Scheduler = zokio::config::MultiThread;
    type Driver = zokio::config::Iocp;
    type Memory = zokio::config::System;
    const WORKER_THREADS: usize = 2;
}

fn use_runtime<C: zokio::Config>(what: &str, rt: &Runtime<C>) {
    assert_eq!(rt.driver_kind(), DriverKind::Iocp, "{what}");
    rt.block_on(async {
        ops::nop().await.unwrap();
        // A timer from the driver's deadline list, and a task woken across threads.
        ops::timeout(Duration::from_millis(5)).await.unwrap();
        let answer = zokio::spawn(async { 42 }).await.unwrap();
        assert_eq!(answer, 42, "{what}");
    });
}

#[test]
fn iocp_is_the_driver_and_unix_names_are_refused() {
    let env = EnvVar::new("ZOKIO_DRIVER");
    assert_eq!(Runtime::<IocpConfig>::INFO.driver, "iocp");
    use_runtime(
        "config::Iocp",
        &Runtime::<IocpConfig>::with_config().unwrap(),
    );
    for value in [None, Some("auto"), Some("iocp")] {
        env.set(value);
        for (name, mut builder) in builders() {
            use_runtime(&format!("{name}, env {value:?}"), &builder.build().unwrap());
        }
    }
    for (name, mut builder) in builders() {
        let rt = builder.driver(Driver::Iocp).build().unwrap();
        use_runtime(&format!("{name}, Driver::Iocp"), &rt);
    }
    for foreign in ["epoll", "io_uring", "kqueue", "poll"] {
        env.set(Some(foreign));
        for (name, mut builder) in builders() {
            let err = match builder.build() {
                Ok(rt) => panic!("{name}: {foreign} accepted, built {:?}", rt.driver_kind()),
                Err(e) => e,
            };
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}: {err}");
            let msg = err.to_string();
            for needle in ["ZOKIO_DRIVER", foreign, "does not have", "iocp"] {
                assert!(
                    msg.contains(needle),
                    "{name}: must mention {needle:?}: {msg}"
                );
            }
        }
    }
}
