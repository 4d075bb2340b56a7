//! No zombies: after every child-process scenario of `process_common` has run on
//! every runtime flavour (children awaited, killed, dropped while running, dropped
//! with `kill_on_drop`), this process has no zombie child left. Its own binary,
//! so that no test running beside it has children of its own in flight. Run under
//! each `ZOKIO_DRIVER`.

mod common;
mod process_common;

use std::time::{Duration, Instant};

use common::{flavors_named, run_with_timeout, BODY_GUARD};

/// This process's children that are zombies (state `Z` in `/proc/<pid>/stat`).
fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state, then parent pid.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let (state, ppid) = (fields.next(), fields.next());
        if state == Some("Z") && ppid == Some(me.to_string().as_str()) {
            zombies.push(pid);
        }
    }
    zombies
}

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
        let start = Instant::now();
        loop {
            let zombies = zombie_children();
            if zombies.is_empty() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "zombie children left: {zombies:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}
