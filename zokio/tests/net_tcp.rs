//! TCP on every scheduler flavour, with whichever driver `ZOKIO_DRIVER` picks: echo
//! round trips of 1 B to 1 MiB through both I/O interfaces (native owned buffers of
//! three types, and tokio's `AsyncReadExt`/`AsyncWriteExt`), split halves used from
//! two tasks at once and put back together, 200 connections served at once by tasks
//! that move between workers, `TcpSocket` options and `SO_REUSEPORT`, IPv6, name
//! lookups, `from_std`/`into_std`, the readiness and `try_*` calls, and `accept`
//! staying cancel-safe (as tokio promises) when it is dropped after one poll.

// Tests sockets (`net`), which Windows does not have yet.

mod common;
mod net_common;

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use common::{flavors_named, multi_thread, run_with_timeout, BODY_GUARD};
use net_common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::io::Interest;
use zokio::net::{lookup_host, TcpListener, TcpSocket, TcpStream};
use zokio::runtime::Runtime;

/// Run `body` on every flavour, on a watchdog thread so a hang fails the test.
fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

async fn echo_server(kind: Server) -> (SocketAddr, zokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, spawn_tcp_echo(listener, kind))
}

/// Close our side and check the echo server closes its side in turn (read 0).
async fn finish_native(stream: TcpStream) {
    stream.shutdown_with(Shutdown::Write).unwrap();
    let (res, _) = within("end of stream", stream.read_owned(Vec::with_capacity(16))).await;
    assert_eq!(
        res.unwrap(),
        0,
        "the echo server sent bytes nobody asked for"
    );
}

#[test]
fn tcp_native_round_trips_every_buffer_type_and_size() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            for server in [Server::Native, Server::Tokio] {
                let (addr, accept) = echo_server(server).await;
                for (i, &size) in SIZES.iter().enumerate() {
                    let seed = i as u64 + 1;
                    let stream = TcpStream::connect(addr).await.unwrap();
                    let msg = payload(seed, size);
                    native_round_trip_exact::<_, Vec<u8>>(&stream, &msg).await;
                    native_round_trip_exact::<_, Box<[u8]>>(&stream, &msg).await;
                    native_round_trip_exact::<_, BytesMut>(&stream, &msg).await;
                    native_round_trip_chunks::<_, Vec<u8>>(&stream, &msg, 4096).await;
                    native_round_trip_chunks::<_, Box<[u8]>>(&stream, &msg, 1000).await;
                    native_round_trip_chunks::<_, BytesMut>(&stream, &msg, 65536).await;
                    finish_native(stream).await;
                }
                accept.abort();
                println!("{flavor}: native round trips against a {server:?} echo server ok");
            }
        });
    });
}

#[test]
fn tcp_tokio_io_round_trips_every_size() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            for server in [Server::Native, Server::Tokio] {
                let (addr, accept) = echo_server(server).await;
                let mut stream = TcpStream::connect(addr).await.unwrap();
                for (i, &size) in SIZES.iter().enumerate() {
                    tokio_round_trip(&mut stream, &payload(100 + i as u64, size)).await;
                }
                // A plain `read` sees the bytes, a `shutdown` ends our side, and the
                // server's close shows as `read` returning 0.
                stream.write_all(b"last words").await.unwrap();
                let mut got = Vec::new();
                let mut buf = [0u8; 3];
                while got.len() < 10 {
                    let n = within("read", stream.read(&mut buf)).await.unwrap();
                    assert!(n > 0, "end of stream before the echo");
                    got.extend_from_slice(&buf[..n]);
                }
                assert_eq!(got, b"last words");
                stream.shutdown().await.unwrap();
                let n = within("read at end", stream.read(&mut buf)).await.unwrap();
                assert_eq!(n, 0, "{flavor}: expected end of stream after shutdown");
                accept.abort();
            }
        });
    });
}

#[test]
fn tcp_borrowed_split_halves_work_at_once() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (addr, accept) = echo_server(Server::Native).await;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let msg = payload(7, 1 << 20);
            {
                let (rd, wr) = stream.split();
                assert_eq!(rd.peer_addr().unwrap(), addr);
                assert_eq!(wr.peer_addr().unwrap(), addr);
                assert_eq!(rd.local_addr().unwrap(), wr.local_addr().unwrap());
                // Native interface on the halves.
                let ((w, _), (r, got)) = within("split native", async {
                    zokio::join!(
                        wr.write_all_owned(msg.clone()),
                        rd.read_exact_owned(Vec::with_capacity(msg.len()))
                    )
                })
                .await;
                w.unwrap();
                r.unwrap();
                assert_bytes_eq("split native", &got, &msg);
            }
            {
                // tokio's interface on the halves.
                let (mut rd, mut wr) = stream.split();
                let (w, r) = within("split tokio", async {
                    zokio::join!(wr.write_all(&msg), async {
                        let mut got = vec![0u8; msg.len()];
                        rd.read_exact(&mut got).await.map(|_| got)
                    })
                })
                .await;
                w.unwrap();
                assert_bytes_eq("split tokio", &r.unwrap(), &msg);
            }
            finish_native(stream).await;
            accept.abort();
        });
    });
}

#[test]
fn tcp_owned_halves_in_two_tasks_then_reunite() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (addr, accept) = echo_server(Server::Tokio).await;
            let stream = TcpStream::connect(addr).await.unwrap();
            let local = stream.local_addr().unwrap();
            let (rd, wr) = stream.into_split();
            assert_eq!(rd.local_addr().unwrap(), local);
            assert_eq!(wr.peer_addr().unwrap(), addr);
            let msgs: Vec<Vec<u8>> = (0..20).map(|i| payload(i, 1 + i as usize * 7919)).collect();
            let total: usize = msgs.iter().map(Vec::len).sum();
            let to_send = msgs.clone();
            // The writer alternates the two interfaces, the reader too.
            let writer = zokio::spawn(async move {
                let mut wr = wr;
                for (i, m) in to_send.into_iter().enumerate() {
                    if i % 2 == 0 {
                        wr.write_all_owned(m).await.0.unwrap();
                    } else {
                        wr.write_all(&m).await.unwrap();
                    }
                    zokio::task::yield_now().await;
                }
                wr
            });
            let reader = zokio::spawn(async move {
                let mut rd = rd;
                let mut got = Vec::with_capacity(total);
                let mut i = 0;
                while got.len() < total {
                    if i % 2 == 0 {
                        let (n, buf) = rd.read_owned(Vec::with_capacity(5000)).await;
                        assert!(n.unwrap() > 0, "unexpected end of stream");
                        got.extend_from_slice(&buf);
                    } else {
                        let mut buf = [0u8; 3000];
                        let n = rd.read(&mut buf).await.unwrap();
                        assert!(n > 0, "unexpected end of stream");
                        got.extend_from_slice(&buf[..n]);
                    }
                    i += 1;
                }
                (rd, got)
            });
            let wr = within("owned writer", writer).await.unwrap();
            let (rd, got) = within("owned reader", reader).await.unwrap();
            assert_bytes_eq(&format!("{flavor}: owned halves"), &got, &msgs.concat());

            // Put back together, the stream works as before.
            let stream = rd.reunite(wr).expect("halves of one stream reunite");
            assert_eq!(stream.local_addr().unwrap(), local);
            native_round_trip_exact::<_, Vec<u8>>(&stream, b"after reunite").await;

            // Halves of two different streams do not reunite, and come back intact.
            let other = TcpStream::connect(addr).await.unwrap();
            let (rd_a, wr_a) = stream.into_split();
            let (rd_b, wr_b) = other.into_split();
            let err = rd_a.reunite(wr_b).expect_err("halves of different streams");
            assert!(err.to_string().contains("different streams"), "{err}");
            let zokio::net::tcp::ReuniteError(rd_a, wr_b) = err;
            let err = wr_a.reunite(rd_b).expect_err("halves of different streams");
            let zokio::net::tcp::ReuniteError(rd_b, wr_a) = err;
            let a = rd_a.reunite(wr_a).expect("a's halves");
            let b = wr_b.reunite(rd_b).expect("b's halves");
            assert_ne!(a.local_addr().unwrap(), b.local_addr().unwrap());
            native_round_trip_exact::<_, Vec<u8>>(&a, b"a").await;
            native_round_trip_exact::<_, Vec<u8>>(&b, b"b").await;
            finish_native(a).await;
            finish_native(b).await;
            accept.abort();
        });
    });
}

#[test]
fn tcp_dropping_owned_write_half_ends_the_peers_stream() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (rd, wr) = client.into_split();
            wr.write_all_owned(b"bye".to_vec()).await.0.unwrap();
            drop(wr);
            let (res, buf) = within("peer read", server.read_exact_owned(vec![0u8; 3])).await;
            res.unwrap();
            assert_eq!(buf, b"bye");
            let (n, _) = within("peer read at end", server.read_owned(Vec::with_capacity(8))).await;
            assert_eq!(
                n.unwrap(),
                0,
                "dropping the write half must shut the write side"
            );
            // The read half still reads.
            server
                .write_all_owned(b"still here".to_vec())
                .await
                .0
                .unwrap();
            let (res, buf) = within("read half", rd.read_exact_owned(Vec::with_capacity(10))).await;
            res.unwrap();
            assert_eq!(buf, b"still here");
        });
    });
}

/// 200 connections at once on a 2-worker runtime. Each server connection hops to a
/// freshly spawned task after every message and yields inside its loops, so its
/// stream is used from whichever worker runs it next; clients do the same.
#[test]
fn tcp_200_connections_with_tasks_moving_between_workers() {
    const CONNS: usize = 200;
    const ROUNDS: usize = 8;
    run_with_timeout(BODY_GUARD, || {
        let rt = multi_thread(2);
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let moved = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (done_tx, mut done_rx) = zokio::sync::mpsc::unbounded_channel::<u64>();

            fn serve_one(
                stream: TcpStream,
                left: usize,
                done: zokio::sync::mpsc::UnboundedSender<u64>,
                threads: Arc<Mutex<HashSet<std::thread::ThreadId>>>,
            ) {
                zokio::spawn(async move {
                    threads.lock().unwrap().insert(std::thread::current().id());
                    // One message: a 4-byte length, then the body; echo both.
                    let (res, len) = stream.read_exact_owned(vec![0u8; 4]).await;
                    if left == 0 {
                        // The client closes after its last round.
                        assert_eq!(
                            res.unwrap_err().kind(),
                            io::ErrorKind::UnexpectedEof,
                            "expected the client to close"
                        );
                        let _ = done.send(threads.lock().unwrap().len() as u64);
                        return;
                    }
                    res.unwrap();
                    let n = u32::from_le_bytes(len[..].try_into().unwrap()) as usize;
                    zokio::task::yield_now().await;
                    let (res, body) = stream.read_exact_owned(BytesMut::with_capacity(n)).await;
                    res.unwrap();
                    zokio::task::yield_now().await;
                    stream.write_all_owned(len).await.0.unwrap();
                    stream.write_all_owned(body).await.0.unwrap();
                    serve_one(stream, left - 1, done, threads);
                });
            }

            let accepter = zokio::spawn({
                async move {
                    for _ in 0..CONNS {
                        let (stream, _) = listener.accept().await.unwrap();
                        // Each connection keeps the set of threads it ran on.
                        let seen = Arc::new(Mutex::new(HashSet::new()));
                        serve_one(stream, ROUNDS, done_tx.clone(), seen);
                    }
                }
            });

            let mut clients = Vec::new();
            for c in 0..CONNS {
                let threads = threads.clone();
                clients.push(zokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for r in 0..ROUNDS {
                        threads.lock().unwrap().insert(std::thread::current().id());
                        let msg =
                            payload((c * ROUNDS + r) as u64, 1 + (c * 131 + r * 977) % 20_000);
                        let mut framed = (msg.len() as u32).to_le_bytes().to_vec();
                        framed.extend_from_slice(&msg);
                        if r % 2 == 0 {
                            let ((w, _), (rd, got)) = zokio::join!(
                                stream.write_all_owned(framed.clone()),
                                stream.read_exact_owned(Vec::with_capacity(framed.len()))
                            );
                            w.unwrap();
                            rd.unwrap();
                            assert_bytes_eq(&format!("connection {c} round {r}"), &got, &framed);
                        } else {
                            stream.write_all(&framed).await.unwrap();
                            let mut got = vec![0u8; framed.len()];
                            stream.read_exact(&mut got).await.unwrap();
                            assert_bytes_eq(&format!("connection {c} round {r}"), &got, &framed);
                        }
                        zokio::task::yield_now().await;
                        // Carry on in a new task, wherever it runs.
                        stream = zokio::spawn(async move { stream }).await.unwrap();
                    }
                }));
            }
            for (c, client) in clients.into_iter().enumerate() {
                within(&format!("client {c}"), client)
                    .await
                    .unwrap_or_else(|e| panic!("client {c} failed: {e}"));
            }
            within("accepter", accepter).await.unwrap();
            let mut moved = 0;
            for _ in 0..CONNS {
                let seen = within("server connections", done_rx.recv()).await.unwrap();
                moved += usize::from(seen > 1);
            }
            moved
        });
        println!(
            "{CONNS} connections ok; clients ran on {} threads; {moved} of {CONNS} server \
             connections ran on more than one worker",
            threads.lock().unwrap().len()
        );
    });
}

#[test]
fn tcp_socket_options_bind_listen_connect() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            assert!(socket.reuseaddr().unwrap());
            socket.set_reuseaddr(false).unwrap();
            assert!(!socket.reuseaddr().unwrap());
            #[cfg(unix)]
            {
                socket.set_reuseport(true).unwrap();
                assert!(socket.reuseport().unwrap());
            }
            socket.set_recv_buffer_size(64 * 1024).unwrap();
            assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
            socket.set_send_buffer_size(64 * 1024).unwrap();
            assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
            socket.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
            let addr = socket.local_addr().unwrap();
            assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
            assert_ne!(addr.port(), 0);
            let listener = socket.listen(16).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);
            listener.set_ttl(42).unwrap();
            assert_eq!(listener.ttl().unwrap(), 42);

            // A client socket bound to a chosen local address first.
            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            client
                .bind((Ipv4Addr::new(127, 0, 0, 3), 0).into())
                .unwrap();
            let client_addr = client.local_addr().unwrap();
            let stream = client.connect(addr).await.unwrap();
            let (server, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, client_addr);
            assert_eq!(stream.local_addr().unwrap(), client_addr);
            assert_eq!(stream.peer_addr().unwrap(), addr);
            assert_eq!(server.peer_addr().unwrap(), client_addr);
            assert!(
                stream.nodelay().unwrap(),
                "TCP_NODELAY set on the socket carries over"
            );

            server.set_nodelay(true).unwrap();
            assert!(server.nodelay().unwrap());
            server.set_nodelay(false).unwrap();
            assert!(!server.nodelay().unwrap());
            server.set_ttl(7).unwrap();
            assert_eq!(server.ttl().unwrap(), 7);
            // Deprecated (a lingering close blocks the thread), but still there.
            #[allow(deprecated)]
            server.set_linger(Some(Duration::from_secs(3))).unwrap();
            assert_eq!(server.linger().unwrap(), Some(Duration::from_secs(3)));
            server.set_zero_linger().unwrap();
            assert_eq!(server.linger().unwrap(), Some(Duration::ZERO));
            #[allow(deprecated)]
            server.set_linger(None).unwrap();
            assert_eq!(server.linger().unwrap(), None);
            let dbg = format!("{stream:?} {listener:?}");
            assert!(
                dbg.contains("TcpStream") && dbg.contains("TcpListener"),
                "{dbg}"
            );

            stream.write_all_owned(b"hello".to_vec()).await.0.unwrap();
            let (res, buf) = server.read_exact_owned(Vec::with_capacity(5)).await;
            res.unwrap();
            assert_eq!(buf, b"hello");
        });
    });
}

#[test]
#[cfg(unix)]
fn tcp_two_listeners_share_a_port_with_reuseport() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let first = TcpSocket::new_v4().unwrap();
            first.set_reuseport(true).unwrap();
            first.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
            let addr = first.local_addr().unwrap();
            let second = TcpSocket::new_v4().unwrap();
            second.set_reuseport(true).unwrap();
            second
                .bind(addr)
                .expect("SO_REUSEPORT lets a second socket bind the port");
            let (first, second) = (first.listen(64).unwrap(), second.listen(64).unwrap());
            assert_eq!(second.local_addr().unwrap(), addr);

            // Without SO_REUSEPORT the port stays taken.
            let third = TcpSocket::new_v4().unwrap();
            let err = third
                .bind(addr)
                .expect_err("a third socket without SO_REUSEPORT");
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");

            // Every connection is accepted by one of the two, and echoed.
            const N: usize = 32;
            let a = spawn_tcp_echo(first, Server::Native);
            let b = spawn_tcp_echo(second, Server::Tokio);
            for i in 0..N {
                let stream = TcpStream::connect(addr).await.unwrap();
                native_round_trip_exact::<_, Vec<u8>>(&stream, &payload(i as u64, 100)).await;
                finish_native(stream).await;
            }
            a.abort();
            b.abort();
        });
    });
}

#[test]
fn tcp_ipv6_loopback() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let listener = match TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!(
                        "\n!!!!! SKIPPED tcp_ipv6_loopback ({flavor}): cannot bind [::1]: {e} !!!!!\n"
                    );
                    return;
                }
            };
            let addr = listener.local_addr().unwrap();
            assert!(addr.is_ipv6());
            let accept = spawn_tcp_echo(listener, Server::Native);
            let mut stream = TcpStream::connect(addr).await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), addr);
            native_round_trip_exact::<_, Vec<u8>>(&stream, &payload(6, 64 * 1024)).await;
            tokio_round_trip(&mut stream, &payload(66, 1 << 20)).await;
            finish_native(stream).await;

            let socket = TcpSocket::new_v6().unwrap();
            let stream = socket.connect(addr).await.unwrap();
            assert!(stream.local_addr().unwrap().is_ipv6());
            native_round_trip_exact::<_, BytesMut>(&stream, b"six").await;
            finish_native(stream).await;
            accept.abort();
        });
    });
}

#[test]
fn tcp_lookup_host_and_names() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let addrs: Vec<SocketAddr> = within("lookup localhost", lookup_host("localhost:80"))
                .await
                .expect("localhost resolves")
                .collect();
            assert!(!addrs.is_empty());
            assert!(addrs.iter().all(|a| a.port() == 80), "{addrs:?}");
            assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
            let addrs: Vec<SocketAddr> = lookup_host(("localhost", 443)).await.unwrap().collect();
            assert!(addrs.iter().all(|a| a.port() == 443), "{addrs:?}");
            // A literal is returned as is, without a lookup.
            let addrs: Vec<SocketAddr> = lookup_host("10.1.2.3:4").await.unwrap().collect();
            assert_eq!(addrs, ["10.1.2.3:4".parse::<SocketAddr>().unwrap()]);

            // Names that fail are errors, not panics.
            for bad in [
                "no-such-host.invalid:80",
                "localhost",
                "localhost:notaport",
                "",
            ] {
                let err = within("bad lookup", lookup_host(bad))
                    .await
                    .err()
                    .unwrap_or_else(|| panic!("looking up {bad:?} succeeded"));
                println!("lookup_host({bad:?}): {err}");
            }
            let empty: &[SocketAddr] = &[];
            let err = lookup_host(empty).await.err().expect("an empty list");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

            // Binding and connecting by name.
            let listener = TcpListener::bind("localhost:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let accept = spawn_tcp_echo(listener, Server::Native);
            let stream = TcpStream::connect(("localhost", port)).await.unwrap();
            native_round_trip_exact::<_, Vec<u8>>(&stream, b"by name").await;
            finish_native(stream).await;
            accept.abort();
            assert!(TcpStream::connect("no-such-host.invalid:80").await.is_err());
        });
    });
}

#[test]
fn tcp_from_std_and_into_std() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            // A std listener, handed to Zokio (blocking mode is switched off).
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let listener = TcpListener::from_std(std_listener).unwrap();
            let std_client = std::net::TcpStream::connect(addr).unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let client = TcpStream::try_from(std_client).unwrap();
            client
                .write_all_owned(b"from std".to_vec())
                .await
                .0
                .unwrap();
            let (res, buf) = server.read_exact_owned(Vec::with_capacity(8)).await;
            res.unwrap();
            assert_eq!(buf, b"from std");

            // Back to std: a non-blocking socket that still works.
            let mut std_server = server.into_std().unwrap();
            std_server.set_nonblocking(false).unwrap();
            std_server.set_read_timeout(Some(HANG)).unwrap();
            client.write_all_owned(b"to std".to_vec()).await.0.unwrap();
            let mut buf = [0u8; 6];
            std_server.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"to std");
            std_server.write_all(b"and back").unwrap();
            let (res, buf) = client.read_exact_owned(Vec::with_capacity(8)).await;
            res.unwrap();
            assert_eq!(buf, b"and back");

            // And the other way again.
            let server = TcpStream::from_std(std_server).unwrap();
            server.write_all_owned(b"again".to_vec()).await.0.unwrap();
            let (res, buf) = client.read_exact_owned(Vec::with_capacity(5)).await;
            res.unwrap();
            assert_eq!(buf, b"again");

            let std_listener = listener.into_std().unwrap();
            assert_eq!(std_listener.local_addr().unwrap(), addr);
            let listener = TcpListener::try_from(std_listener).unwrap();
            let _c = TcpStream::connect(addr).await.unwrap();
            within("accept after round trip", listener.accept())
                .await
                .unwrap();
        });
    });
}

#[test]
fn tcp_readiness_peek_and_try_calls() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();

            let mut buf = [0u8; 16];
            let err = server.try_read(&mut buf).expect_err("nothing sent yet");
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            within("writable", client.writable()).await.unwrap();
            let ready = within("ready", client.ready(Interest::WRITABLE))
                .await
                .unwrap();
            assert!(ready.is_writable());
            assert_eq!(client.try_write(b"peekaboo").unwrap(), 8);
            within("readable", server.readable()).await.unwrap();
            let n = within("peek", server.peek(&mut buf)).await.unwrap();
            assert!(n > 0 && buf[..n] == b"peekaboo"[..n]);
            // Peeking took nothing.
            let mut got = Vec::new();
            while got.len() < 8 {
                server.readable().await.unwrap();
                match server.try_read(&mut buf) {
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("try_read: {e}"),
                }
            }
            assert_eq!(got, b"peekaboo");
            client.shutdown_with(Shutdown::Write).unwrap();
            let ready = within("read closed", server.ready(Interest::READABLE))
                .await
                .unwrap();
            assert!(ready.is_readable() || ready.is_read_closed());
            assert_eq!(server.try_read(&mut buf).unwrap(), 0);
        });
    });
}

/// A receive that emptied the socket makes the next ring receive wait for data before
/// its first try. Data that is already there by then must still be received at once,
/// on the native and the poll-based path alike: the peer writes before the second
/// read is even asked for, and writes nothing after it, so a receive that waited for
/// new data would hang (caught by the watchdog).
#[test]
fn tcp_reads_after_an_emptying_read_find_data_already_there() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            for round in 0..3u8 {
                client.write_all(&[round; 10]).await.unwrap();
                // Room for more than was sent: this read empties the socket.
                let (n, buf) =
                    within("first read", server.read_owned(Vec::with_capacity(64))).await;
                assert_eq!((n.unwrap(), &buf[..]), (10, &[round; 10][..]));
                client.write_all(&[round + 100; 7]).await.unwrap();
                // Let the bytes arrive before the next read is submitted.
                within("readable", server.readable()).await.unwrap();
                let (n, buf) =
                    within("native read", server.read_owned(Vec::with_capacity(64))).await;
                assert_eq!((n.unwrap(), &buf[..]), (7, &[round + 100; 7][..]));
                // The same through the poll-based reader.
                client.write_all(&[round + 200; 5]).await.unwrap();
                let mut got = [0u8; 64];
                let n = within("poll read", server.read(&mut got)).await.unwrap();
                assert_eq!(&got[..n], &[round + 200; 5][..]);
                client.write_all(&[round + 50; 3]).await.unwrap();
                within("readable", server.readable()).await.unwrap();
                let n = within("poll read again", server.read(&mut got))
                    .await
                    .unwrap();
                assert_eq!(&got[..n], &[round + 50; 3][..]);
            }
        });
    });
}

/// `accept` is cancel-safe, as in tokio: an `accept` dropped before it finished
/// accepted no connection. The server here drops every `accept` that is not ready at
/// its first poll while clients keep connecting; each client must still be served.
#[test]
fn tcp_accept_dropped_after_one_poll_loses_no_connection() {
    const CLIENTS: usize = 64;
    let failures = run_with_timeout(BODY_GUARD, || {
        let mut failures = Vec::new();
        for (flavor, rt) in flavors_named() {
            let outcome = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let mut clients = Vec::new();
                for c in 0..CLIENTS {
                    clients.push(zokio::spawn(async move {
                        for _ in 0..c % 5 {
                            zokio::task::yield_now().await;
                        }
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let msg = payload(c as u64, 64);
                        stream.write_all_owned(msg.clone()).await.0.unwrap();
                        let (r, got) = stream.read_exact_owned(Vec::with_capacity(64)).await;
                        r.map_err(|e| format!("client {c}: {e}"))?;
                        assert_bytes_eq("echo", &got, &msg);
                        Ok::<(), String>(())
                    }));
                }
                let (mut accepted, mut dropped) = (0, 0u64);
                // Only a connection that a dropped accept took keeps the loop going
                // past the guard.
                let all = zokio::time::timeout(HANG, async {
                    while accepted < CLIENTS {
                        let attempt = {
                            let mut accept = std::pin::pin!(listener.accept());
                            futures::poll!(accept.as_mut())
                        };
                        match attempt {
                            std::task::Poll::Ready(r) => {
                                let (stream, _) = r.unwrap();
                                zokio::spawn(async move {
                                    let _ = echo_native(&stream, 0).await;
                                });
                                accepted += 1;
                            }
                            std::task::Poll::Pending => dropped += 1,
                        }
                        // Throttled: from a `block_on` thread every attempt is a
                        // submission and a cancel queued for a worker, and an
                        // unthrottled flood (millions a second) starves the clients.
                        zokio::time::sleep(Duration::from_micros(100)).await;
                    }
                })
                .await;
                let mut lost = Vec::new();
                // One guard for all the clients, not one each: a client that was
                // lost never answers.
                let deadline = zokio::time::Instant::now() + HANG;
                for client in clients {
                    let result = zokio::time::timeout_at(deadline, client).await;
                    match result {
                        Ok(Ok(Ok(()))) => {}
                        Ok(Ok(Err(e))) => lost.push(e),
                        Ok(Err(e)) => lost.push(format!("client task: {e}")),
                        Err(_) => lost.push("client never answered".to_string()),
                    }
                }
                println!("{flavor}: {dropped} accepts dropped after one poll");
                if all.is_ok() && lost.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "{flavor}: {accepted} of {CLIENTS} connections accepted in {HANG:?} \
                         ({dropped} accepts dropped after one poll); {} clients not served, \
                         e.g. {:?}",
                        lost.len(),
                        lost.first()
                    ))
                }
            });
            if let Err(e) = outcome {
                failures.push(e);
            }
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "dropped accepts took connections:\n{}",
        failures.join("\n")
    );
}

/// Bytes a write reported written reach the peer even when the stream is dropped
/// at once, with no flush or shutdown: on Unix the kernel's buffer holds them; on
/// Windows the last of them may still be in a send of the socket's own, which the
/// drop lets finish. A writer far ahead of its reader waits, and nothing is lost
/// or reordered.
#[test]
fn bytes_written_before_a_drop_all_arrive() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let msg = payload(21, 4 << 20);
            let reader = zokio::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                // Let the writer get ahead and fill every buffer first.
                zokio::time::sleep(Duration::from_millis(50)).await;
                let mut got = Vec::new();
                stream.read_to_end(&mut got).await.unwrap();
                got
            });
            let mut writer = TcpStream::connect(addr).await.unwrap();
            within("write_all", writer.write_all(&msg)).await.unwrap();
            drop(writer);
            let got = within("read_to_end", reader).await.unwrap();
            assert_bytes_eq(&format!("{flavor}: after the drop"), &got, &msg);
        });
    });
}
