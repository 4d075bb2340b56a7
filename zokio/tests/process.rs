//! `zokio::process` on every runtime flavour: piped round trips (1 B, 1 MiB, owned
//! and poll-based), a child closing its stdout early, writes to a child that
//! stopped reading, 100 children at once, `kill_on_drop`, dropped children reaped,
//! a missing program, a child that exits before `wait`, cancel-safe waits, exit
//! codes and signals, a pipeline, bad input, and what the pipe ends show of
//! themselves. Run under each `ZOKIO_DRIVER`.

// Runs Unix programs (`sh`, `cat`...) and checks Unix reaping and signals; the Windows
// version of `process` is tested in `process_windows.rs`.
#![cfg(unix)]

mod common;
mod process_common;

use std::future::Future;

use common::{flavors_named, run_with_timeout, BODY_GUARD};

/// Run the scenario `make()` builds on a fresh runtime of every flavour.
fn on_every_flavor<F, Fut>(make: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            // Spawned, so that the scenario runs on a worker of every flavour.
            let done = rt.block_on(rt.spawn(make()));
            if let Err(e) = done {
                panic!("on {name}: {e}");
            }
        }
    });
}

#[test]
fn one_byte_round_trip() {
    on_every_flavor(|| process_common::cat_round_trip(1));
}

#[test]
fn one_mib_round_trip() {
    on_every_flavor(|| process_common::cat_round_trip(1 << 20));
}

#[test]
fn one_mib_round_trip_with_owned_reads() {
    on_every_flavor(|| process_common::cat_round_trip_owned_reads(1 << 20));
}

#[test]
fn child_closing_stdout_early_reads_as_end_of_file() {
    on_every_flavor(process_common::child_closes_stdout_early);
}

#[test]
fn writing_to_a_child_that_stopped_reading_is_broken_pipe() {
    on_every_flavor(process_common::write_to_a_child_that_stopped_reading);
}

#[test]
fn hundred_children_at_once() {
    on_every_flavor(process_common::hundred_at_once);
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    on_every_flavor(process_common::kill_on_drop);
}

#[test]
fn a_dropped_child_is_reaped() {
    on_every_flavor(process_common::dropped_child_is_reaped);
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    on_every_flavor(process_common::program_not_found);
}

#[test]
fn a_child_that_exits_before_wait() {
    on_every_flavor(process_common::exits_before_wait);
}

#[test]
fn try_wait_sees_the_exit() {
    on_every_flavor(process_common::try_wait_then_status);
}

#[test]
fn kill_reports_sigkill() {
    on_every_flavor(process_common::kill_reports_the_signal);
}

#[test]
fn a_dropped_wait_consumes_nothing() {
    on_every_flavor(process_common::wait_is_cancel_safe);
}

#[test]
fn output_and_status_collect_streams_and_codes() {
    on_every_flavor(process_common::output_and_status);
}

#[test]
fn a_pipe_end_becomes_the_next_child_s_stdin() {
    on_every_flavor(process_common::pipeline);
}

#[test]
fn bad_input_is_invalid_input() {
    on_every_flavor(process_common::bad_input);
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    let err = zokio::process::Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("needs a Zokio runtime"), "{err}");
}

#[test]
fn spawned_in_one_runtime_waited_in_another() {
    run_with_timeout(BODY_GUARD, || {
        let mut child = common::multi_thread(2).block_on(async {
            zokio::process::Command::new("sh")
                .args(["-c", "sleep 0.1; exit 4"])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        });
        let status = common::current_thread().block_on(child.wait()).unwrap();
        assert_eq!(status.code(), Some(4));
    });
}

#[test]
fn the_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<zokio::process::Command>();
    send_sync::<zokio::process::Child>();
    send_sync::<zokio::process::ChildStdin>();
    send_sync::<zokio::process::ChildStdout>();
    send_sync::<zokio::process::ChildStderr>();
}

#[test]
fn pipe_ends_show_their_descriptor_and_write_vectored() {
    use std::os::fd::AsRawFd;
    use std::process::Stdio;
    on_every_flavor(|| async {
        let mut child = zokio::process::Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let fd = stdin.as_raw_fd();
        assert_eq!(format!("{stdin:?}"), format!("ChildStdin {{ fd: {fd} }}"));
        let fd = stdout.as_raw_fd();
        assert_eq!(format!("{stdout:?}"), format!("ChildStdout {{ fd: {fd} }}"));
        let fd = stderr.as_raw_fd();
        assert_eq!(format!("{stderr:?}"), format!("ChildStderr {{ fd: {fd} }}"));
        // `writev(2)` takes several slices in one call.
        assert!(tokio::io::AsyncWrite::is_write_vectored(&stdin));
        drop(stdin);
        assert!(child.wait().await.unwrap().success());
    });
}
