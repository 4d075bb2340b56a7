//! The wait for kernels without pidfds (before Linux 5.3): `SIGCHLD` through
//! `zokio::signal` and a non-blocking `waitpid` of each child. This binary
//! pretends the kernel has no pidfd (a hidden testing switch) and runs every
//! child-process scenario of `process_common` on every runtime flavour, then
//! counts the zombies left. Run under each `ZOKIO_DRIVER`.

// Tests the wait through `SIGCHLD`, which only Unix has; the Windows version of
// `process` is tested in `process_windows.rs`.
#![cfg(unix)]

mod common;
mod process_common;

use std::time::Duration;

use common::{flavors_named, run_with_timeout, BODY_GUARD};

#[test]
fn every_scenario_through_sigchld_and_no_zombie() {
    zokio::process::pretend_no_pidfd(true);
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            if let Err(e) = rt.block_on(rt.spawn(process_common::all())) {
                panic!("on {name}: {e}");
            }
        }
        // The last orphans' tasks went with their runtime: the next spawn's sweep
        // reaps what has exited by then.
        std::thread::sleep(Duration::from_millis(200));
        common::current_thread().block_on(async {
            zokio::process::Command::new("true").status().await.unwrap();
        });
        process_common::no_zombie_left();
    });
}
