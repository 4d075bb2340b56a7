//! `zokio::process` on Windows (run under Wine in CI), on every runtime flavour: output
//! and exit codes of `cmd` children, piped round trips through a copy of this test
//! binary acting as `cat` (1 byte, 1 MiB, poll-based and owned-buffer), standard
//! error, writes to a child that exited, `kill`, `start_kill` and `try_wait`,
//! `kill_on_drop`, cancel-safe waits, a pipe end handed to the next child, and bad
//! input; and that no worker blocks: timers keep firing on a one-worker runtime while
//! a task waits for a child and another reads a silent pipe, and a runtime shuts down
//! promptly while a read of a silent child is in flight.
//!
//! Children that must read, write or wait are this binary run again with
//! `ZOKIO_TEST_CHILD_ROLE` set (see [`child_role`]): the test harness prints its own
//! lines to standard output first, so such a child writes [`MARKER`] before its data.

#![cfg(windows)]

mod common;

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{current_thread, flavors_named, run_with_timeout, timed, BODY_GUARD, HANG_GUARD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::process::Command;

const ROLE_ENV: &str = "ZOKIO_TEST_CHILD_ROLE";
/// What a child of this binary writes to stdout before its data.
const MARKER: &[u8] = b"<<zokio-child-output>>\n";
/// The exit code of the `until-stdin-closes` child.
const STDIN_CLOSED_CODE: i32 = 7;

/// Not a test of its own: the body of a child of this binary, chosen by
/// `ZOKIO_TEST_CHILD_ROLE`; without it, it returns at once.
#[test]
fn child_role() {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let mut stdout = std::io::stdout().lock();
    let code = match role.as_str() {
        // Copy stdin to stdout until end of file.
        "cat" => {
            stdout.write_all(MARKER).unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => stdout.write_all(&buf[..n]).unwrap(),
                    Err(e) if e.kind() == ErrorKind::BrokenPipe => break,
                    Err(e) => panic!("child cat: {e}"),
                }
            }
            0
        }
        // Wait, silent, until stdin reaches its end.
        "until-stdin-closes" => {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            STDIN_CLOSED_CODE
        }
        // Never end on its own.
        "forever" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        // Some bytes to stderr, others to stdout.
        "both-streams" => {
            stdout.write_all(MARKER).unwrap();
            stdout.write_all(b"to stdout").unwrap();
            std::io::stderr().write_all(b"to stderr").unwrap();
            5
        }
        other => panic!("unknown child role {other:?}"),
    };
    stdout.flush().unwrap();
    std::process::exit(code);
}

/// A copy of this binary in `role`.
fn helper(role: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child_role", "--exact", "--test-threads=1", "--nocapture"])
        .env(ROLE_ENV, role);
    command
}

/// What a child of this binary wrote after the marker.
fn after_marker(out: &[u8]) -> &[u8] {
    let at = out
        .windows(MARKER.len())
        .position(|w| w == MARKER)
        .unwrap_or_else(|| panic!("no marker in {:?}", String::from_utf8_lossy(out)));
    &out[at + MARKER.len()..]
}

/// Bytes 0, 1, ... 250, 0, 1, ...: a pattern in which a lost or repeated chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Run the scenario `make()` builds, spawned on a fresh runtime of every flavour.
fn on_every_flavor<F, Fut>(make: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            let done = rt.block_on(rt.spawn(make()));
            if let Err(e) = done {
                panic!("on {name}: {e}");
            }
        }
    });
}

/// `zokio::time::timeout` with the hang guard: a hang fails instead of hanging.
async fn guarded<T>(what: &str, f: impl Future<Output = T>) -> T {
    match zokio::time::timeout(HANG_GUARD, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {HANG_GUARD:?}"),
    }
}

#[test]
fn echo_output_and_exit_codes() {
    on_every_flavor(|| async {
        let out = Command::new("cmd")
            .args(["/c", "echo hello"])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "hello");
        let status = Command::new("cmd")
            .args(["/c", "exit 3"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), Some(3));
    });
}

async fn cat_round_trip(len: usize) {
    let data = pattern(len);
    let mut child = helper("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = zokio::spawn(async move {
        stdin.write_all(&pattern(len)).await.unwrap();
        stdin.flush().await.unwrap();
        // Dropping stdin closes the pipe: the child then sees end of file.
    });
    let mut back = Vec::new();
    guarded("reading from the child", stdout.read_to_end(&mut back))
        .await
        .unwrap();
    writer.await.unwrap();
    let back = after_marker(&back);
    assert!(
        back == data,
        "the child gave back {} bytes, not the {len} written",
        back.len()
    );
    assert!(child.wait().await.unwrap().success());
}

#[test]
fn one_byte_round_trip() {
    on_every_flavor(|| cat_round_trip(1));
}

#[test]
fn one_mib_round_trip() {
    on_every_flavor(|| cat_round_trip(1 << 20));
}

#[test]
fn one_mib_round_trip_with_owned_buffers() {
    on_every_flavor(|| async {
        let len = 1 << 20;
        let mut child = helper("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let writer = zokio::spawn(async move {
            let (r, _) = stdin.write_all_owned(pattern(len)).await;
            r.unwrap();
        });
        let mut back = Vec::new();
        loop {
            let (r, buf) = stdout.read_owned(Vec::with_capacity(4096)).await;
            if r.unwrap() == 0 {
                break;
            }
            back.extend_from_slice(&buf);
        }
        writer.await.unwrap();
        assert!(after_marker(&back) == pattern(len));
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn wait_with_output_collects_both_streams() {
    on_every_flavor(|| async {
        let out = helper("both-streams").output().await.unwrap();
        assert_eq!(out.status.code(), Some(5));
        assert_eq!(after_marker(&out.stdout), b"to stdout");
        assert_eq!(out.stderr, b"to stderr");
    });
}

#[test]
fn writing_to_a_child_that_exited_is_broken_pipe() {
    on_every_flavor(|| async {
        let mut child = Command::new("cmd")
            .args(["/c", "exit 0"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        // Writes are reported taken at once; the failure comes with the next call
        // at the latest.
        let mut failed = None;
        for _ in 0..3 {
            if let Err(e) = stdin.write_all(b"nobody reads this").await {
                failed = Some(e);
                break;
            }
            if let Err(e) = stdin.flush().await {
                failed = Some(e);
                break;
            }
        }
        let e = failed.expect("writing to a child that exited kept succeeding");
        assert_eq!(e.kind(), ErrorKind::BrokenPipe, "{e}");
        let (r, _) = stdin.write_all_owned(b"more".to_vec()).await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn kill_try_wait_and_id() {
    on_every_flavor(|| async {
        let mut child = helper("forever").stdout(Stdio::null()).spawn().unwrap();
        assert!(child.id().is_some());
        assert!(child.raw_handle().is_some());
        assert!(child.try_wait().unwrap().is_none());
        guarded("kill", child.kill()).await.unwrap();
        // `TerminateProcess` with exit code 1, as `std` does.
        let status = child.try_wait().unwrap().expect("killed and waited");
        assert_eq!(status.code(), Some(1));
        assert_eq!(child.wait().await.unwrap().code(), Some(1));
        assert!(child.id().is_none());
        assert!(child.raw_handle().is_none());
        // Killing again does nothing.
        child.start_kill().unwrap();
    });
}

#[test]
fn start_kill_then_wait() {
    on_every_flavor(|| async {
        let mut child = helper("forever").stdout(Stdio::null()).spawn().unwrap();
        child.start_kill().unwrap();
        let status = guarded("wait", child.wait()).await.unwrap();
        assert_eq!(status.code(), Some(1));
    });
}

#[test]
fn kill_on_drop_ends_the_child() {
    on_every_flavor(|| async {
        let mut child = helper("forever")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        drop(child);
        // The child's end of the pipe closes when it ends: end of file here (after
        // what the harness and nothing else printed).
        let mut out = Vec::new();
        guarded(
            "end of file from a killed child",
            stdout.read_to_end(&mut out),
        )
        .await
        .unwrap();
        assert!(!out.windows(MARKER.len()).any(|w| w == MARKER));
    });
}

#[test]
fn a_dropped_child_without_kill_on_drop_runs_on() {
    on_every_flavor(|| async {
        let mut child = helper("until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        drop(child);
        zokio::time::sleep(Duration::from_millis(50)).await;
        // Still alive: its stdout has not ended. Closing stdin lets it go.
        let mut buf = [0u8; 64];
        let mut read = Box::pin(async {
            let mut all = Vec::new();
            loop {
                let n = stdout.read(&mut buf).await.unwrap();
                if n == 0 {
                    return all;
                }
                all.extend_from_slice(&buf[..n]);
            }
        });
        let early = zokio::time::timeout(Duration::from_millis(300), &mut read).await;
        assert!(early.is_err(), "the dropped child ended on its own");
        drop(stdin);
        guarded("end of file once stdin closed", read).await;
    });
}

#[test]
fn a_dropped_wait_consumes_nothing() {
    on_every_flavor(|| async {
        let mut child = helper("until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        for _ in 0..3 {
            let early = zokio::time::timeout(Duration::from_millis(20), child.wait()).await;
            assert!(early.is_err(), "the child ended before its stdin closed");
        }
        drop(stdin);
        let status = guarded("wait", child.wait()).await.unwrap();
        assert_eq!(status.code(), Some(STDIN_CLOSED_CODE));
        // Once seen, always the same.
        assert_eq!(child.wait().await.unwrap().code(), Some(STDIN_CLOSED_CODE));
        assert_eq!(
            child.try_wait().unwrap().unwrap().code(),
            Some(STDIN_CLOSED_CODE)
        );
    });
}

#[test]
fn a_pipe_end_becomes_the_next_child_s_stdin() {
    on_every_flavor(|| async {
        let mut first = Command::new("cmd")
            .args(["/c", "echo piped along"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let end: Stdio = first.stdout.take().unwrap().try_into().unwrap();
        let out = helper("cat").stdin(end).output().await.unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(after_marker(&out.stdout)).trim_end(),
            "piped along"
        );
        assert!(first.wait().await.unwrap().success());
    });
}

#[test]
fn many_children_at_once() {
    on_every_flavor(|| async {
        let children: Vec<_> = (0..10)
            .map(|i| {
                Command::new("cmd")
                    .args(["/c", &format!("exit {i}")])
                    .spawn()
                    .unwrap()
            })
            .collect();
        let waits: Vec<_> = children
            .into_iter()
            .enumerate()
            .map(|(i, mut child)| zokio::spawn(async move { (i, child.wait().await.unwrap()) }))
            .collect();
        for wait in waits {
            let (i, status) = guarded("a wait", wait).await.unwrap();
            assert_eq!(status.code(), Some(i as i32));
        }
    });
}

#[test]
fn bad_input_is_invalid_input_or_not_found() {
    on_every_flavor(|| async {
        let e = Command::new("zokio-no-such-program").spawn().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert!(e.to_string().contains("zokio-no-such-program"), "{e}");
        let e = Command::new("cmd").arg("a\0b").spawn().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("argument 1"), "{e}");
        let e = Command::new("").spawn().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    let err = Command::new("cmd").spawn().unwrap_err();
    assert!(err.to_string().contains("needs a Zokio runtime"), "{err}");
}

/// On a runtime of one thread, a task waiting for a child and a task reading a
/// silent pipe leave the thread free: timers keep firing meanwhile.
#[test]
fn waiting_and_reading_never_block_the_worker() {
    timed(|| {
        let rt = current_thread();
        rt.block_on(async {
            let mut child = helper("until-stdin-closes")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let waiting = zokio::spawn(async move { child.wait().await.unwrap() });
            let reading = zokio::spawn(async move {
                let mut all = Vec::new();
                stdout.read_to_end(&mut all).await.unwrap();
                all
            });
            let ticks = Arc::new(AtomicUsize::new(0));
            let start = Instant::now();
            for _ in 0..20 {
                zokio::time::sleep(Duration::from_millis(5)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
            assert_eq!(ticks.load(Ordering::Relaxed), 20);
            assert!(!waiting.is_finished() && !reading.is_finished());
            assert!(start.elapsed() < HANG_GUARD);
            drop(stdin);
            let status = guarded("wait", waiting).await.unwrap();
            assert_eq!(status.code(), Some(STDIN_CLOSED_CODE));
            let out = guarded("read", reading).await.unwrap();
            assert!(!out.windows(MARKER.len()).any(|w| w == MARKER));
        });
    });
}

/// A read of a child that never writes is in flight on the blocking pool when the
/// runtime is dropped: dropping the pipe end (with its task) cancels the read, so
/// the drop does not wait for the child, which still runs afterwards.
#[test]
fn a_runtime_with_a_read_in_flight_shuts_down() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let started = Arc::new(AtomicUsize::new(0));
            let seen = started.clone();
            let mut child = rt.block_on(async move {
                let mut child = helper("forever")
                    .stdout(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let mut stdout = child.stdout.take().unwrap();
                // Reads what the harness prints, then waits for more forever.
                zokio::spawn(async move {
                    let mut buf = [0u8; 256];
                    loop {
                        seen.fetch_add(1, Ordering::SeqCst);
                        if stdout.read(&mut buf).await.unwrap_or(0) == 0 {
                            return;
                        }
                    }
                });
                zokio::time::sleep(Duration::from_millis(300)).await;
                child
            });
            assert!(
                started.load(Ordering::SeqCst) > 0,
                "on {name}: the read never started"
            );
            drop(rt);
            assert!(
                child.try_wait().unwrap().is_none(),
                "on {name}: the child ended before it was killed"
            );
            child.start_kill().unwrap();
        }
    });
}

/// futures' `AsyncRead`/`AsyncWrite` on the same ends.
#[cfg(feature = "futures-io")]
#[test]
fn futures_io_round_trip() {
    use futures::AsyncWriteExt as _;
    on_every_flavor(|| async {
        let len = 100_000;
        let mut child = helper("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let writer = zokio::spawn(async move {
            futures::AsyncWriteExt::write_all(&mut stdin, &pattern(len))
                .await
                .unwrap();
            stdin.close().await.unwrap();
        });
        let mut back = Vec::new();
        guarded(
            "reading",
            futures::AsyncReadExt::read_to_end(&mut stdout, &mut back),
        )
        .await
        .unwrap();
        writer.await.unwrap();
        assert!(after_marker(&back) == pattern(len));
        assert!(child.wait().await.unwrap().success());
    });
}

/// A pipe end used after its runtime shut down (from a thread that still holds the
/// runtime's handle as its current one): the pool refuses the call, and the read
/// fails with an error instead of hanging; outside any runtime, too.
#[test]
fn a_read_after_the_runtime_shut_down_is_an_error() {
    timed(|| {
        let rt = current_thread();
        let (child, mut stdout) = rt.block_on(async {
            let mut child = helper("forever")
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            (child, stdout)
        });
        let handle = rt.handle().clone();
        drop(rt);
        let mut buf = [0u8; 16];
        {
            let _entered = handle.enter();
            let e = futures::executor::block_on(stdout.read(&mut buf)).unwrap_err();
            assert!(e.to_string().contains("shut down"), "{e}");
        }
        let e = futures::executor::block_on(stdout.read(&mut buf)).unwrap_err();
        assert!(e.to_string().contains("needs a Zokio runtime"), "{e}");
        drop(child);
    });
}
