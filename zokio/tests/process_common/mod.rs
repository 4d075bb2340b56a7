//! The child-process scenarios shared by `process.rs` (each one its own test, on
//! every flavour) and `process_zombies.rs` (all of them, then a count of the
//! zombies left behind). Each is an async function that panics on failure.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::process::Command;

/// Bytes 0, 1, ... 250, 0, 1, ...: a pattern in which a lost or repeated chunk shows.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// `cat` with both ends piped: write `data` with the owned-buffer path while
/// reading it back with the poll-based one, concurrently.
pub async fn cat_round_trip(len: usize) {
    let data = pattern(len);
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawning cat");
    let stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = zokio::spawn(async move {
        let (r, _) = stdin.write_all_owned(pattern(len)).await;
        r.expect("writing to cat");
        // Dropping stdin closes the pipe: cat then sees end of file.
    });
    let mut back = Vec::new();
    stdout
        .read_to_end(&mut back)
        .await
        .expect("reading from cat");
    writer.await.unwrap();
    assert!(
        back == data,
        "cat gave back {} bytes, not the {len} written",
        back.len()
    );
    assert!(child.wait().await.unwrap().success());
}

/// The same round trip with the roles swapped: poll-based writes, owned reads.
pub async fn cat_round_trip_owned_reads(len: usize) {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawning cat");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let writer = zokio::spawn(async move {
        stdin
            .write_all(&pattern(len))
            .await
            .expect("writing to cat");
    });
    let mut back = Vec::new();
    loop {
        let (r, buf) = stdout.read_owned(Vec::with_capacity(4096)).await;
        if r.expect("reading from cat") == 0 {
            break;
        }
        back.extend_from_slice(&buf);
    }
    writer.await.unwrap();
    assert!(back == pattern(len), "cat gave back {} bytes", back.len());
    assert!(child.wait().await.unwrap().success());
}

/// A child that closes its standard output and lingers: the parent reads end of
/// file while the child still runs.
pub async fn child_closes_stdout_early() {
    let mut child = Command::new("sh")
        .args(["-c", "exec 1>&-; sleep 0.2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(out.read(&mut buf).await.unwrap(), 0);
    assert!(child.wait().await.unwrap().success());
}

/// Writing more than a child reads, after it exited: `BrokenPipe`, no crash.
pub async fn write_to_a_child_that_stopped_reading() {
    let mut child = Command::new("head")
        .args(["-c", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let (r, _) = stdin.write_all_owned(pattern(4 << 20)).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::BrokenPipe);
    let mut stdin2 = stdin;
    let e = stdin2.write_all(b"more").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BrokenPipe);
    assert!(child.wait().await.unwrap().success());
}

/// 100 children started at once, all awaited together.
pub async fn hundred_at_once() {
    let children: Vec<_> = (0..100)
        .map(|i| {
            Command::new("sh")
                .args(["-c", &format!("exit {}", i % 7)])
                .spawn()
                .expect("spawning one of 100")
        })
        .collect();
    let waits = children
        .into_iter()
        .enumerate()
        .map(|(i, mut child)| zokio::spawn(async move { (i, child.wait().await.unwrap()) }));
    for wait in waits.collect::<Vec<_>>() {
        let (i, status) = wait.await.unwrap();
        assert_eq!(status.code(), Some(i as i32 % 7));
    }
}

/// Whether process `pid` is gone (reaped) or a zombie; `false` while it runs.
fn not_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Whether process `pid` no longer exists at all (reaped).
fn reaped(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Poll `cond` for up to 30 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what}: never happened"
        );
        zokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `kill_on_drop`: dropping the handle kills the child, and it is reaped.
pub async fn kill_on_drop() {
    let child = Command::new("sleep")
        .arg("30")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    drop(child);
    eventually("a kill_on_drop child to be killed", || not_running(pid)).await;
    eventually("a kill_on_drop child to be reaped", || reaped(pid)).await;
}

/// A child dropped while it runs (no `kill_on_drop`) is reaped once it exits.
pub async fn dropped_child_is_reaped() {
    let child = Command::new("sleep").arg("0.1").spawn().unwrap();
    let pid = child.id().unwrap();
    drop(child);
    eventually("a dropped child to be reaped", || reaped(pid)).await;
}

/// A program that does not exist: `NotFound`, and the message names it.
pub async fn program_not_found() {
    let err = Command::new("zokio-no-such-program").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = err.to_string();
    assert!(text.contains("zokio-no-such-program"), "{text}");
    assert!(text.contains("os error 2"), "{text}");
    let err = Command::new("zokio-no-such-program")
        .output()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// A child that exits before `wait` is called.
pub async fn exits_before_wait() {
    let mut child = Command::new("sh").args(["-c", "exit 5"]).spawn().unwrap();
    let pid = child.id().unwrap();
    eventually("the child to exit", || not_running(pid)).await;
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(5));
    assert_eq!(child.id(), None);
    // Reaped once: every later call answers the same.
    assert_eq!(child.wait().await.unwrap().code(), Some(5));
    assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(5));
}

/// `try_wait` says `None` while the child runs and the status after.
pub async fn try_wait_then_status() {
    let mut child = Command::new("sleep").arg("0.2").spawn().unwrap();
    assert!(child.try_wait().unwrap().is_none());
    eventually("try_wait to see the exit", || {
        child.try_wait().unwrap().is_some()
    })
    .await;
    assert!(child.wait().await.unwrap().success());
}

/// `kill` ends a child by `SIGKILL`, and the status says so.
pub async fn kill_reports_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    child.kill().await.unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // Killing a reaped child does nothing.
    child.start_kill().unwrap();
    child.kill().await.unwrap();
}

/// A wait dropped before the child exits consumes nothing: a later one works.
pub async fn wait_is_cancel_safe() {
    let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
    let early = zokio::time::timeout(Duration::from_millis(20), child.wait()).await;
    assert!(early.is_err(), "sleep 0.3 exited within 20 ms");
    assert!(child.wait().await.unwrap().success());
}

/// `output` and `status`: exit code, both streams, arguments and environment.
pub async fn output_and_status() {
    let out = Command::new("sh")
        .args(["-c", "printf \"$GREETING\"; printf err >&2; exit 3"])
        .env("GREETING", "hello")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"hello");
    assert_eq!(out.stderr, b"err");
    let status = Command::new("true").status().await.unwrap();
    assert!(status.success());
}

/// A pipeline: one child's stdout handed to the next as its stdin (in blocking
/// mode again, as programs expect).
pub async fn pipeline() {
    let mut first = Command::new("echo")
        .arg("through a pipe")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let handed: Stdio = first.stdout.take().unwrap().try_into().unwrap();
    let out = Command::new("cat").stdin(handed).output().await.unwrap();
    assert_eq!(out.stdout, b"through a pipe\n");
    assert!(first.wait().await.unwrap().success());
}

/// Bad input: an empty program name, a NUL byte in an argument.
pub async fn bad_input() {
    let err = Command::new("").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("program name is empty"), "{err}");
    let err = Command::new("echo")
        .args(["fine", "bad\0arg"])
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.to_string();
    assert!(
        text.contains("argument 2") && text.contains("NUL"),
        "{text}"
    );
    let err = Command::new("echo").env("K", "v\0").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

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

/// Wait (up to 30 s) until this process has no zombie child.
pub fn no_zombie_left() {
    let start = Instant::now();
    loop {
        let zombies = zombie_children();
        if zombies.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "zombie children left: {zombies:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every scenario, one after the other.
pub async fn all() {
    cat_round_trip(1).await;
    cat_round_trip(1 << 20).await;
    cat_round_trip_owned_reads(1 << 20).await;
    child_closes_stdout_early().await;
    write_to_a_child_that_stopped_reading().await;
    hundred_at_once().await;
    kill_on_drop().await;
    dropped_child_is_reaped().await;
    program_not_found().await;
    exits_before_wait().await;
    try_wait_then_status().await;
    kill_reports_the_signal().await;
    wait_is_cancel_safe().await;
    output_and_status().await;
    pipeline().await;
    bad_input().await;
}
