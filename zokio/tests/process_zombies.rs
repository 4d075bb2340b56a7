//! No zombies: after every child-process scenario of `process_common` has run on
//! every runtime flavour (children awaited, killed, dropped while running, dropped
//! with `kill_on_drop`), this process has no zombie child left. Its own binary,
//! so that no test running beside it has children of its own in flight. Run under
//! each `ZOKIO_DRIVER`.

// Runs Unix programs (`sh`, `cat`...) and checks Unix reaping and signals; the Windows
// version of `process` is tested in `process_windows.rs`.
#![cfg(unix)]

mod common;
mod process_common;

use std::time::Duration;

use common::{flavors_named, run_with_timeout, BODY_GUARD};

#[test]
fn no_zombie_is_left_behind() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            if let Err(e) = rt.block_on(rt.spawn(process_common::all())) {
                panic!("on {name}: {e}");
            }
            // Children dropped running, their runtime then dropped too.
            rt.block_on(async {
                for _ in 0..5 {
                    drop(
                        zokio::process::Command::new("sleep")
                            .arg("0.05")
                            .spawn()
                            .unwrap(),
                    );
                }
            });
        }
        // Those last orphans were reaped by their tasks, or will be by the next
        // spawn's sweep once they have exited.
        std::thread::sleep(Duration::from_millis(200));
        common::current_thread().block_on(async {
            zokio::process::Command::new("true").status().await.unwrap();
        });
        process_common::no_zombie_left();
    });
}
