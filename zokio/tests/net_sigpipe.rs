//! Writing to a closed peer is an `io::Error` (`BrokenPipe` or `ConnectionReset`),
//! never `SIGPIPE`. Rust programs start with `SIGPIPE` ignored, which would hide a
//! missing `MSG_NOSIGNAL`; so this binary, alone, puts `SIGPIPE` back to its default
//! action (kill the process) before anything else, on every path that writes to a
//! stream socket: native owned writes, tokio's `write_all` and `write_vectored`, the
//! halves, TCP and Unix, on every flavour and whichever driver `ZOKIO_DRIVER` picks.
//! A control test shows that a plain `write(2)` in this set-up really is killed.

// Tests sockets (`net`), which Windows does not have yet.
#![cfg(unix)]

mod common;
mod net_common;

use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::sync::Once;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use net_common::*;
use tokio::io::AsyncWriteExt;
use zokio::net::{TcpListener, TcpStream, UnixStream};
use zokio::runtime::Runtime;

const WRITE_TO_GONE: &[io::ErrorKind] =
    &[io::ErrorKind::BrokenPipe, io::ErrorKind::ConnectionReset];

/// Make `SIGPIPE` fatal again for the whole process.
fn sigpipe_kills() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting a signal's disposition to its default has no preconditions.
        let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        assert_ne!(previous, libc::SIG_ERR, "signal(SIGPIPE, SIG_DFL) failed");
    });
}

fn each_flavor(body: fn(&'static str, &Runtime)) {
    sigpipe_kills();
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

/// Write with `write` until it fails; the failure must be one of [`WRITE_TO_GONE`].
async fn write_until_error<F, Fut>(what: &str, mut write: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = io::Result<()>>,
{
    let err = within(what, async {
        loop {
            if let Err(e) = write().await {
                return e;
            }
        }
    })
    .await;
    assert_kind(what, &err, WRITE_TO_GONE);
}

/// A connected TCP pair `(ours, theirs)`.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (theirs, _) = listener.accept().await.unwrap();
    (ours, theirs)
}

/// Close `theirs` and wait until `ours` has seen it go (reads end of stream), so the
/// writes below are all writes to a closed peer.
async fn peer_gone(ours: &TcpStream, theirs: TcpStream) {
    drop(theirs);
    let (n, _) = within(
        "peer's end of stream",
        ours.read_owned(Vec::with_capacity(8)),
    )
    .await;
    assert_eq!(n.unwrap(), 0);
}

/// Set in the environment of the control's child process.
const CHILD_ENV: &str = "ZOKIO_SIGPIPE_CONTROL_CHILD";

/// The control's child: a plain `write(2)` on a socket whose peer is closed, with
/// `SIGPIPE` at its default action. Does nothing unless started by the control.
#[test]
#[ignore = "run by control_a_plain_write_to_a_closed_socket_is_killed_by_sigpipe"]
fn control_child_plain_write() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    sigpipe_kills();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(b);
    // SAFETY: a write of one byte from a live buffer on a descriptor we own.
    let n = unsafe { libc::write(a.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    println!("still alive after write returned {n}");
}

#[test]
fn control_a_plain_write_to_a_closed_socket_is_killed_by_sigpipe() {
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args([
            "--exact",
            "control_child_plain_write",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("starting the control child");
    assert_eq!(
        status.signal(),
        Some(libc::SIGPIPE),
        "the control child was not killed by SIGPIPE ({status}): this binary would not \
         notice a write that raises it"
    );
}

#[test]
fn tcp_writes_to_a_closed_peer_are_errors_not_sigpipe() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (ours, theirs) = tcp_pair().await;
            peer_gone(&ours, theirs).await;
            write_until_error(&format!("{flavor}: write_all_owned"), || async {
                ours.write_all_owned(vec![7u8; 4096]).await.0
            })
            .await;

            let (ours, theirs) = tcp_pair().await;
            peer_gone(&ours, theirs).await;
            write_until_error(&format!("{flavor}: write_owned"), || async {
                ours.write_owned(b"x".to_vec()).await.0.map(|_| ())
            })
            .await;

            let (mut ours, theirs) = tcp_pair().await;
            peer_gone(&ours, theirs).await;
            let err = within("tokio write_all", async {
                loop {
                    if let Err(e) = ours.write_all(&[1u8; 4096]).await {
                        return e;
                    }
                }
            })
            .await;
            assert_kind(&format!("{flavor}: tokio write_all"), &err, WRITE_TO_GONE);

            let (mut ours, theirs) = tcp_pair().await;
            peer_gone(&ours, theirs).await;
            let err = within("tokio write_vectored", async {
                loop {
                    let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
                    if let Err(e) = ours.write_vectored(&bufs).await {
                        return e;
                    }
                }
            })
            .await;
            assert_kind(
                &format!("{flavor}: tokio write_vectored"),
                &err,
                WRITE_TO_GONE,
            );

            // The halves.
            let (ours, theirs) = tcp_pair().await;
            peer_gone(&ours, theirs).await;
            let (_rd, mut wr) = ours.into_split();
            write_until_error(
                &format!("{flavor}: OwnedWriteHalf::write_all_owned"),
                || async { wr.write_all_owned(vec![3u8; 100]).await.0 },
            )
            .await;
            let err = within("half write_all", async {
                loop {
                    if let Err(e) = wr.write_all(b"more").await {
                        return e;
                    }
                }
            })
            .await;
            assert_kind("OwnedWriteHalf tokio write_all", &err, WRITE_TO_GONE);
        });
    });
}

#[test]
fn unix_writes_to_a_closed_peer_are_errors_not_sigpipe() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            // Unix streams fail at the first write after the peer closed.
            let (ours, theirs) = UnixStream::pair().unwrap();
            drop(theirs);
            let (r, _) = ours.write_all_owned(b"x".to_vec()).await;
            assert_kind(
                &format!("{flavor}: unix write_all_owned"),
                &r.expect_err("peer closed"),
                WRITE_TO_GONE,
            );
            let (r, _) = ours.write_owned(b"x".to_vec()).await;
            assert_kind(
                "unix write_owned",
                &r.expect_err("peer closed"),
                WRITE_TO_GONE,
            );
            let mut ours = ours;
            let err = ours.write_all(b"x").await.expect_err("peer closed");
            assert_kind("unix tokio write_all", &err, WRITE_TO_GONE);
            let err = ours
                .write_vectored(&[IoSlice::new(b"a"), IoSlice::new(b"b")])
                .await
                .expect_err("peer closed");
            assert_kind("unix tokio write_vectored", &err, WRITE_TO_GONE);
            {
                let (_rd, mut wr) = ours.split();
                let err = wr.write_all(b"x").await.expect_err("peer closed");
                assert_kind("unix WriteHalf write_all", &err, WRITE_TO_GONE);
                let (r, _) = wr.write_all_owned(b"x".to_vec()).await;
                assert_kind(
                    "unix WriteHalf owned",
                    &r.expect_err("closed"),
                    WRITE_TO_GONE,
                );
            }
            // Still alive to say so.
        });
    });
}
