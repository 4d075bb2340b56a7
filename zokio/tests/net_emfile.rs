//! Running out of descriptors (`EMFILE`) in `TcpListener::accept`: the listener must
//! back off and retry — neither returning the error (which ends most accept loops)
//! nor spinning on it — while the connections it already has keep being served; once
//! descriptors are free again, the connections that waited are accepted and served.
//!
//! A binary of its own with a single test: it lowers this process's soft
//! `RLIMIT_NOFILE`, which no other test may share. Runs with whichever driver
//! `ZOKIO_DRIVER` picks, on a 2-worker runtime.

// Tests sockets (`net`), which Windows does not have yet.
#![cfg(unix)]

mod common;
mod net_common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{multi_thread, run_with_timeout, spin_until, BODY_GUARD};
use net_common::*;
use zokio::net::TcpListener;

/// Free descriptor slots left under the lowered limit.
const FREE_SLOTS: usize = 4;
/// Connections made beyond those slots; they wait in the listen queue.
const EXTRA: usize = 4;

/// Captures log records, to see the listener's warning.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}: {}", record.level(), record.target(), record.args());
            self.0.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

fn warnings() -> Vec<String> {
    LOGS.0.lock().unwrap().clone()
}

/// Puts the soft descriptor limit back when dropped, even if the test fails.
struct RestoreLimit(u64);

impl Drop for RestoreLimit {
    fn drop(&mut self) {
        set_nofile_soft(self.0);
    }
}

fn echo_once(stream: &mut std::net::TcpStream, msg: &[u8], what: &str) {
    stream
        .write_all(msg)
        .unwrap_or_else(|e| panic!("{what}: write: {e}"));
    let mut got = vec![0u8; msg.len()];
    stream
        .read_exact(&mut got)
        .unwrap_or_else(|e| panic!("{what}: read: {e}"));
    assert_bytes_eq(what, &got, msg);
}

fn blocking_socket() -> socket2::Socket {
    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .expect("creating a client socket")
}

#[test]
fn accept_survives_emfile_without_spinning_and_recovers() {
    log::set_logger(&LOGS).expect("installing the capturing logger");
    log::set_max_level(log::LevelFilter::Warn);
    run_with_timeout(BODY_GUARD, body);
}

fn body() {
    let rt = multi_thread(2);
    let accepted = Arc::new(AtomicUsize::new(0));
    let accept_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));

    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    rt.spawn({
        let (accepted, accept_error) = (accepted.clone(), accept_error.clone());
        async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        accepted.fetch_add(1, Ordering::SeqCst);
                        zokio::spawn(async move {
                            let _ = echo_native(&stream, 0).await;
                        });
                    }
                    Err(e) => {
                        *accept_error.lock().unwrap() = Some(format!("{:?}: {e}", e.kind()));
                        return;
                    }
                }
            }
        }
    });
    let check_no_accept_error = || {
        if let Some(e) = accept_error.lock().unwrap().as_ref() {
            panic!(
                "TcpListener::accept returned an error instead of backing off: {e} \
                 (warnings logged: {:?})",
                warnings()
            );
        }
    };

    // One connection, served normally.
    let mut first = std::net::TcpStream::connect(addr).unwrap();
    first.set_read_timeout(Some(HANG)).unwrap();
    echo_once(&mut first, b"before", "first connection before the limit");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // Client sockets made now, while descriptors are plentiful: connecting them
    // later needs no new descriptor in this process.
    let pool: Vec<socket2::Socket> = (0..FREE_SLOTS + EXTRA).map(|_| blocking_socket()).collect();

    // Lower the soft limit so that exactly FREE_SLOTS descriptor numbers are free
    // under it (descriptors at or above it stay open; new ones must be below it).
    let (soft, hard) = nofile_limit();
    let open: HashSet<i32> = open_fds().into_iter().collect();
    let limit = (0..)
        .filter(|n| !open.contains(n))
        .nth(FREE_SLOTS - 1)
        .map(|n| n as u64 + 1)
        .unwrap();
    assert!(
        limit < soft,
        "the soft limit {soft} is already too low for this test"
    );
    println!(
        "{} descriptors open; soft limit {soft} (hard {hard}) lowered to {limit}",
        open.len()
    );
    let restore = RestoreLimit(soft);
    set_nofile_soft(limit);

    // Connect more clients than there are free slots: the kernel completes each
    // handshake (the listen queue holds them); the server accepts until EMFILE.
    let clients: Vec<std::net::TcpStream> = pool
        .into_iter()
        .map(|s| {
            s.connect(&addr.into()).expect("connecting a client");
            let s: std::net::TcpStream = s.into();
            s.set_read_timeout(Some(HANG)).unwrap();
            s
        })
        .collect();

    spin_until(HANG, "the listener's out-of-descriptors warning", || {
        check_no_accept_error();
        warnings().iter().any(|w| w.contains("accept"))
    });
    let starved_at = accepted.load(Ordering::SeqCst);
    println!(
        "starved after accepting {starved_at} connections; warnings: {:?}",
        warnings()
    );
    assert!(
        starved_at < 1 + clients.len(),
        "every connection was accepted although the limit left room for {FREE_SLOTS}"
    );
    assert!(
        warnings()
            .iter()
            .any(|w| w.contains("Too many open files") || w.contains("os error 24")),
        "the warning should say what ran out: {:?}",
        warnings()
    );

    // While starved, the process must not spin: measure its CPU time over a window.
    let window = Duration::from_millis(500);
    let (cpu0, t0) = (cpu_time(), Instant::now());
    std::thread::sleep(window);
    let (cpu, wall) = (cpu_time() - cpu0, t0.elapsed());
    println!("while starved: {cpu:?} of CPU time in {wall:?}");
    assert!(
        cpu < wall / 5,
        "the starved listener used {cpu:?} of CPU in {wall:?}: it spins instead of backing off"
    );
    check_no_accept_error();
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        starved_at,
        "accepted while starved?"
    );

    // The connection the server already had is still served.
    echo_once(
        &mut first,
        b"while starved",
        "first connection while starved",
    );

    // Give the descriptors back: the waiting connections are accepted and served.
    drop(restore);
    assert_eq!(nofile_limit().0, soft);
    for (i, mut c) in clients.into_iter().enumerate() {
        echo_once(
            &mut c,
            &payload(i as u64, 1000),
            &format!("client {i} after recovery"),
        );
    }
    spin_until(HANG, "all connections accepted", || {
        accepted.load(Ordering::SeqCst) == 1 + FREE_SLOTS + EXTRA
    });
    check_no_accept_error();
    echo_once(&mut first, b"after", "first connection after recovery");
    let count = warnings().len();
    assert!(
        count <= 3,
        "one starvation should log a warning or two, not {count}"
    );
    drop(first);
    rt.shutdown_timeout(Duration::from_secs(10));
}
