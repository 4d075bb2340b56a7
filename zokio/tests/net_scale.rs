//! Scale: hold N loopback connections at once in one process (target 100,000; set
//! `ZOKIO_SCALE_CONNECTIONS` to change it), echo one small message on each, and
//! report the memory each costs:
//!
//! ```text
//! scale: N connections, X bytes/connection (RSS), Y s to establish
//! ```
//!
//! Each connection is two descriptors here (client and server end), so N is clamped to
//! what the hard `RLIMIT_NOFILE` allows, loudly. Client sockets bind to source
//! addresses spread over 127.0.0.0/8 before connecting, so that ephemeral ports never
//! run out. Ignored by default (it takes a while and needs a raised descriptor limit):
//!
//! ```sh
//! cargo test --release -p zokio --test net_scale -- --ignored --nocapture
//! ```

// Tests sockets (`net`), which Windows does not have yet.
#![cfg(unix)]

mod common;
mod net_common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::run_with_timeout;
use net_common::*;
use zokio::net::{TcpSocket, TcpStream};
use zokio::runtime::Builder;
use zokio::sync::{mpsc, watch, Semaphore};

/// Connections asked for when `ZOKIO_SCALE_CONNECTIONS` is not set.
const TARGET: usize = 100_000;
/// Descriptors kept free for everything else in the process.
const SPARE_FDS: u64 = 256;
/// Connection attempts in flight at once (below the listen backlog).
const CONNECTING_AT_ONCE: usize = 512;
/// Client connections per source address.
const PER_SOURCE: usize = 250;

/// The `i`th client's source address: 127.a.b.c with a, b, c in 1..=250.
fn source_addr(i: usize) -> SocketAddr {
    let k = i / PER_SOURCE;
    let (a, b) = (1 + (k / 250) % 250, 1 + k % 250);
    let c = 1 + (i % PER_SOURCE) % 250;
    SocketAddr::from((Ipv4Addr::new(127, a as u8, b as u8, c as u8), 0))
}

/// Try to set both descriptor limits to `want` (capped by `fs.nr_open`).
fn raise_hard_nofile(want: u64) -> bool {
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(want);
    let want = want.min(nr_open);
    let rl = libc::rlimit {
        rlim_cur: want as libc::rlim_t,
        rlim_max: want as libc::rlim_t,
    };
    // SAFETY: setrlimit reads a live struct; failure (EPERM) is reported.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) == 0 }
}

#[test]
#[ignore = "scale test: run with --ignored --release --nocapture"]
fn hold_many_connections_and_measure_memory() {
    let asked = match std::env::var("ZOKIO_SCALE_CONNECTIONS") {
        Ok(v) => v
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("ZOKIO_SCALE_CONNECTIONS={v:?} is not a number")),
        Err(_) => TARGET,
    };
    let open = open_fds().len() as u64;
    let needed = 2 * asked as u64 + open + SPARE_FDS;
    // A privileged process may raise the hard limit itself (up to `fs.nr_open`);
    // anyone may raise the soft limit to the hard one.
    let (_, hard) = nofile_limit();
    if hard < needed && !raise_hard_nofile(needed) {
        eprintln!("scale: the hard RLIMIT_NOFILE ({hard}) cannot be raised (not privileged)");
    }
    let (_, hard) = nofile_limit();
    set_nofile_soft(hard);
    let room = (hard.saturating_sub(open + SPARE_FDS) / 2) as usize;
    let n = asked.min(room);
    if n < asked {
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !!! scale: {asked} connections asked for, but the hard RLIMIT_NOFILE of {hard}\n\
             !!! ({open} descriptors open) holds only {room} (two descriptors each).\n\
             !!! Running with {n}. Raise the hard limit (`ulimit -Hn`) for more.\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    assert!(n > 0, "no room for a single connection");
    run_with_timeout(Duration::from_secs(600), move || run(n));
}

fn run(n: usize) {
    let workers = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(2)
        .clamp(2, 8);
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
        let listener = socket.listen(65_535).unwrap();
        let addr = listener.local_addr().unwrap();

        // Server: echo one 8-byte message, then hold the connection until the client
        // closes it.
        let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<Result<(), String>>();
        let server = zokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let ended = ended_tx.clone();
                zokio::spawn(async move {
                    let result = async {
                        let (r, msg) = stream.read_exact_owned(vec![0u8; 8]).await;
                        r.map_err(|e| format!("server read: {e}"))?;
                        let (r, _) = stream.write_all_owned(msg).await;
                        r.map_err(|e| format!("server write: {e}"))?;
                        let (r, _) = stream.read_owned(Vec::with_capacity(1)).await;
                        match r {
                            Ok(0) => Ok(()),
                            Ok(_) => Err("server: unexpected bytes".to_string()),
                            Err(e) => Err(format!("server wait for close: {e}")),
                        }
                    }
                    .await;
                    let _ = ended.send(result);
                });
            }
        });

        // Wait for the runtime's threads to settle before the baseline.
        zokio::task::yield_now().await;
        let rss_before = rss_bytes();
        let start = Instant::now();

        let permits = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
        let (release_tx, release_rx) = watch::channel(false);
        let (up_tx, mut up_rx) = mpsc::unbounded_channel::<Result<(), String>>();
        let established = Arc::new(AtomicUsize::new(0));
        let mut clients = Vec::with_capacity(n);
        for i in 0..n {
            let permits = permits.clone();
            let mut release = release_rx.clone();
            let up = up_tx.clone();
            let established = established.clone();
            clients.push(zokio::spawn(async move {
                let connected = async {
                    let permit = permits.acquire().await.unwrap();
                    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
                    let from = source_addr(i);
                    socket.bind(from).map_err(|e| format!("bind {from}: {e}"))?;
                    let stream: TcpStream = socket
                        .connect(addr)
                        .await
                        .map_err(|e| format!("connect from {from}: {e}"))?;
                    drop(permit);
                    let msg = (i as u64).to_le_bytes().to_vec();
                    let (r, _) = stream.write_all_owned(msg).await;
                    r.map_err(|e| format!("client write: {e}"))?;
                    let (r, echo) = stream.read_exact_owned(vec![0u8; 8]).await;
                    r.map_err(|e| format!("client read: {e}"))?;
                    if echo != (i as u64).to_le_bytes() {
                        return Err(format!("connection {i}: wrong echo {echo:?}"));
                    }
                    Ok(stream)
                }
                .await;
                match connected {
                    Ok(stream) => {
                        established.fetch_add(1, Ordering::Relaxed);
                        let _ = up.send(Ok(()));
                        // Hold the connection until every one is up.
                        let _ = release.wait_for(|go| *go).await;
                        drop(stream);
                    }
                    Err(e) => {
                        let _ = up.send(Err(e));
                    }
                }
            }));
        }
        drop(up_tx);
        for done in 0..n {
            let result = zokio::time::timeout(Duration::from_secs(120), up_rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "scale: stuck after {done} of {n} connections ({} established)",
                        established.load(Ordering::Relaxed)
                    )
                })
                .expect("a client task ended without reporting");
            if let Err(e) = result {
                panic!("scale: connection failed after {done} of {n}: {e}");
            }
        }
        let took = start.elapsed();
        let rss_after = rss_bytes();
        let per = rss_after.saturating_sub(rss_before) / n as u64;
        println!(
            "scale: {n} connections, {per} bytes/connection (RSS), {:.2} s to establish \
             ({workers} workers; RSS {} MiB -> {} MiB; both ends of each connection in \
             this process)",
            took.as_secs_f64(),
            rss_before >> 20,
            rss_after >> 20
        );

        // Let them all go, and check every server side saw a clean close.
        release_tx.send(true).unwrap();
        for (i, client) in clients.into_iter().enumerate() {
            within(&format!("client {i}"), client).await.unwrap();
        }
        for done in 0..n {
            let result = within(&format!("server side {done} of {n}"), ended_rx.recv())
                .await
                .expect("server task ended without reporting");
            if let Err(e) = result {
                panic!("scale: a server connection failed: {e}");
            }
        }
        server.abort();
    });
}
