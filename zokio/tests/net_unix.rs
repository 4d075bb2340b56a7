//! Unix sockets on every scheduler flavour, with whichever driver `ZOKIO_DRIVER`
//! picks: stream echo round trips of 1 B to 1 MiB through both I/O interfaces over a
//! listener bound to a temporary path and over `pair()`, split halves and
//! `reunite`, `UnixDatagram` bound, unbound, connected and paired (borrowed and owned
//! buffers, empty and truncated datagrams), addresses, `from_std`/`into_std`, and the
//! errors for a taken or missing path.

// Tests sockets (`net`), which Windows does not have yet.
#![cfg(unix)]

mod common;
mod net_common;

use std::io::{self, Read, Write};
use std::net::Shutdown;

use bytes::BytesMut;
use common::{flavors_named, run_with_timeout, BODY_GUARD};
use net_common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::{UnixDatagram, UnixListener, UnixSocket, UnixStream};
use zokio::runtime::Runtime;

fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

async fn finish_native(stream: UnixStream) {
    stream.shutdown_with(Shutdown::Write).unwrap();
    let (res, _) = within("end of stream", stream.read_owned(Vec::with_capacity(16))).await;
    assert_eq!(
        res.unwrap(),
        0,
        "the echo server sent bytes nobody asked for"
    );
}

#[test]
fn unix_native_and_tokio_round_trips_over_a_listener() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            for server in [Server::Native, Server::Tokio] {
                let path = TempPath::new("unix-echo");
                let listener = UnixListener::bind(path.path()).unwrap();
                assert_eq!(
                    listener.local_addr().unwrap().as_pathname(),
                    Some(path.path())
                );
                let accept = spawn_unix_echo(listener, server);
                for (i, &size) in SIZES.iter().enumerate() {
                    let msg = payload(i as u64 + 40, size);
                    let stream = UnixStream::connect(path.path()).await.unwrap();
                    assert_eq!(stream.peer_addr().unwrap().as_pathname(), Some(path.path()));
                    native_round_trip_exact::<_, Vec<u8>>(&stream, &msg).await;
                    native_round_trip_exact::<_, Box<[u8]>>(&stream, &msg).await;
                    native_round_trip_exact::<_, BytesMut>(&stream, &msg).await;
                    native_round_trip_chunks::<_, Vec<u8>>(&stream, &msg, 4096).await;
                    native_round_trip_chunks::<_, Box<[u8]>>(&stream, &msg, 999).await;
                    native_round_trip_chunks::<_, BytesMut>(&stream, &msg, 65536).await;
                    let mut stream = stream;
                    tokio_round_trip(&mut stream, &msg).await;
                    if i % 2 == 0 {
                        stream.shutdown().await.unwrap();
                        let mut buf = [0u8; 8];
                        assert_eq!(within("end", stream.read(&mut buf)).await.unwrap(), 0);
                    } else {
                        finish_native(stream).await;
                    }
                }
                accept.abort();
                println!("{flavor}: unix round trips against a {server:?} echo server ok");
            }
        });
    });
}

#[test]
fn unix_pair_round_trips() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let echo = zokio::spawn(async move { echo_tokio(&mut b).await.unwrap() });
            let mut total = 0;
            for (i, &size) in SIZES.iter().enumerate() {
                let msg = payload(i as u64 + 50, size);
                native_round_trip_exact::<_, BytesMut>(&a, &msg).await;
                tokio_round_trip(&mut a, &msg).await;
                total += 2 * size as u64;
            }
            a.shutdown_with(Shutdown::Write).unwrap();
            assert_eq!(within("echo end", echo).await.unwrap(), total);
            let (n, _) = a.read_owned(Vec::with_capacity(4)).await;
            assert_eq!(n.unwrap(), 0);
        });
    });
}

#[test]
fn unix_split_halves_and_reunite() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let echo = zokio::spawn(async move { echo_native(&b, 2).await.unwrap() });
            let msg = payload(9, 1 << 20);
            {
                let (mut rd, mut wr) = a.split();
                let (w, r) = within("borrowed halves", async {
                    zokio::join!(wr.write_all(&msg), async {
                        let (res, got) = rd.read_exact_owned(Vec::with_capacity(msg.len())).await;
                        res.map(|_| got)
                    })
                })
                .await;
                w.unwrap();
                assert_bytes_eq("borrowed halves", &r.unwrap(), &msg);
                let (w, r) = zokio::join!(wr.write_all_owned(b"xy".to_vec()), async {
                    let mut got = [0u8; 2];
                    rd.read_exact(&mut got).await.map(|_| got)
                });
                w.0.unwrap();
                assert_eq!(&r.unwrap(), b"xy");
            }

            // Owned halves in two tasks.
            let (rd, wr) = a.into_split();
            let to_send = msg.clone();
            let writer = zokio::spawn(async move {
                wr.write_all_owned(to_send).await.0.unwrap();
                wr
            });
            let reader = zokio::spawn(async move {
                let mut rd = rd;
                let mut got = vec![0u8; 1 << 20];
                rd.read_exact(&mut got).await.unwrap();
                (rd, got)
            });
            let wr = within("writer", writer).await.unwrap();
            let (rd, got) = within("reader", reader).await.unwrap();
            assert_bytes_eq("owned halves", &got, &msg);
            let a = wr.reunite(rd).expect("halves of one stream");

            // Halves of different streams.
            let (x, _y) = UnixStream::pair().unwrap();
            let (ra, wa) = a.into_split();
            let (rx, wx) = x.into_split();
            let zokio::net::unix::ReuniteError(ra, wx) =
                ra.reunite(wx).expect_err("different streams");
            let a = ra.reunite(wa).expect("a's halves");
            let _x = rx.reunite(wx).expect("x's halves");

            // Dropping an owned write half ends the peer's stream; the read half reads on.
            let (rd, wr) = a.into_split();
            drop(wr);
            assert_eq!(within("echo end", echo).await.unwrap(), (1 << 20) * 2 + 2);
            let (n, _) = rd.read_owned(Vec::with_capacity(4)).await;
            assert_eq!(n.unwrap(), 0);
        });
    });
}

#[test]
fn unix_listener_errors_and_std_conversions() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let path = TempPath::new("unix-taken");
            let listener = UnixListener::bind(path.path()).unwrap();
            let err = UnixListener::bind(path.path()).expect_err("the path is taken");
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
            assert!(
                err.to_string().contains(&path.path().display().to_string()),
                "the error names the path: {err}"
            );
            let missing = TempPath::new("unix-missing");
            let err = UnixStream::connect(missing.path())
                .await
                .expect_err("nothing is bound there");
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
            assert!(
                err.to_string()
                    .contains(&missing.path().display().to_string()),
                "{err}"
            );

            // Listener to std and back.
            let std_listener = listener.into_std().unwrap();
            let listener = UnixListener::from_std(std_listener).unwrap();
            let client = UnixStream::connect(path.path()).await.unwrap();
            let (server, peer) = within("accept", listener.accept()).await.unwrap();
            assert!(
                peer.as_pathname().is_none(),
                "an unbound client has no path"
            );
            assert!(format!("{listener:?}").contains("UnixListener"));

            // Stream to std and back.
            let mut std_server = server.into_std().unwrap();
            std_server.set_nonblocking(false).unwrap();
            std_server.set_read_timeout(Some(HANG)).unwrap();
            client.write_all_owned(b"to std".to_vec()).await.0.unwrap();
            let mut buf = [0u8; 6];
            std_server.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"to std");
            std_server.write_all(b"from std").unwrap();
            let server = UnixStream::from_std(std_server).unwrap();
            let (res, got) = client.read_exact_owned(Vec::with_capacity(8)).await;
            res.unwrap();
            assert_eq!(got, b"from std");
            server.write_all_owned(b"!".to_vec()).await.0.unwrap();
            let (res, got) = client.read_exact_owned(Vec::with_capacity(1)).await;
            res.unwrap();
            assert_eq!(got, b"!");
        });
    });
}

#[test]
fn unix_datagram_bound_unbound_connected_and_paired() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let pa = TempPath::new("dgram-a");
            let pb = TempPath::new("dgram-b");
            let a = UnixDatagram::bind(pa.path()).unwrap();
            let b = UnixDatagram::bind(pb.path()).unwrap();
            assert_eq!(a.local_addr().unwrap().as_pathname(), Some(pa.path()));
            let err = UnixDatagram::bind(pa.path()).expect_err("taken path");
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");

            // send_to / recv_from with borrowed buffers, several sizes.
            for (i, size) in [1usize, 1024, 60_000].into_iter().enumerate() {
                let msg = payload(i as u64, size);
                assert_eq!(a.send_to(&msg, pb.path()).await.unwrap(), size);
                let mut buf = vec![0u8; 65536];
                let (n, from) = within("recv_from", b.recv_from(&mut buf)).await.unwrap();
                assert_eq!(from.as_pathname(), Some(pa.path()));
                assert_bytes_eq("unix datagram", &buf[..n], &msg);
            }
            // Owned: send_to_owned, and recv_owned on a connected socket.
            let (res, _) = b.send_to_owned(payload(3, 5000), pa.path()).await;
            assert_eq!(res.unwrap(), 5000);
            a.connect(pb.path()).unwrap();
            assert_eq!(a.peer_addr().unwrap().as_pathname(), Some(pb.path()));
            let (res, got) = within("recv_owned", a.recv_owned(Vec::with_capacity(8192))).await;
            assert_eq!(res.unwrap(), 5000);
            assert_bytes_eq("owned unix datagram", &got, &payload(3, 5000));
            let (res, _) = a.send_owned(BytesMut::from(&b"connected"[..])).await;
            assert_eq!(res.unwrap(), 9);
            let mut buf = [0u8; 32];
            let n = within("recv", b.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"connected");

            // An empty datagram, and one truncated by a small buffer.
            a.send(b"").await.unwrap();
            let (res, got) = within("empty", b.recv_owned(Vec::with_capacity(16))).await;
            assert_eq!(res.unwrap(), 0);
            assert!(got.is_empty());
            a.send(b"0123456789").await.unwrap();
            a.send(b"next").await.unwrap();
            let mut small = [0u8; 4];
            assert_eq!(within("truncated", b.recv(&mut small)).await.unwrap(), 4);
            assert_eq!(&small, b"0123");
            let (res, got) = b.recv_owned(Vec::with_capacity(16)).await;
            assert_eq!(res.unwrap(), 4, "the rest of a truncated datagram is gone");
            assert_eq!(got, b"next");

            // An unbound socket sends; the receiver sees no path.
            let u = UnixDatagram::unbound().unwrap();
            u.send_to(b"anon", pb.path()).await.unwrap();
            let (n, from) = within("from unbound", b.recv_from(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"anon");
            assert!(from.as_pathname().is_none());

            // A pair, both interfaces, and try_* calls.
            let (x, y) = UnixDatagram::pair().unwrap();
            let err = y.try_recv(&mut buf).expect_err("nothing yet");
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            x.try_send(b"try").unwrap();
            let (res, got) = within("pair", y.recv_owned(Box::from(&[0u8; 3][..]))).await;
            assert_eq!(res.unwrap(), 3);
            assert_eq!(&got[..], b"try");
            y.send_owned(vec![1, 2, 3, 4]).await.0.unwrap();
            let n = within("pair recv", x.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], &[1, 2, 3, 4]);

            // To std and back.
            let std_x = x.into_std().unwrap();
            std_x.set_nonblocking(false).unwrap();
            y.send(b"std").await.unwrap();
            let n = std_x.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"std");
            let x = UnixDatagram::from_std(std_x).unwrap();
            x.send(b"back").await.unwrap();
            let n = within("back", y.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"back");
            x.shutdown(Shutdown::Both).unwrap();
            assert!(format!("{x:?}").contains("UnixDatagram"));
        });
    });
}

#[test]
fn unix_socket_becomes_a_listener_a_stream_or_a_datagram_socket() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let server_path = TempPath::new("unix-socket-listen");
            let socket = UnixSocket::new_stream().unwrap();
            socket.bind(server_path.path()).unwrap();
            let listener = socket.listen(16).unwrap();
            let client_path = TempPath::new("unix-socket-connect");
            let socket = UnixSocket::new_stream().unwrap();
            socket.bind(client_path.path()).unwrap();
            let (client, accepted) =
                futures::join!(socket.connect(server_path.path()), listener.accept());
            let client = client.unwrap();
            let (server, peer) = accepted.unwrap();
            assert_eq!(peer.as_pathname(), Some(client_path.path()), "{flavor}");
            client.try_write(b"hi").unwrap();
            within("readable", server.readable()).await.unwrap();
            assert_eq!(server.try_read(&mut [0u8; 4]).unwrap(), 2);

            let dgram_path = TempPath::new("unix-socket-dgram");
            let socket = UnixSocket::new_datagram().unwrap();
            socket.bind(dgram_path.path()).unwrap();
            let dgram = socket.datagram().unwrap();
            let sender = UnixDatagram::unbound().unwrap();
            sender.send_to(b"dgram", dgram_path.path()).await.unwrap();
            let mut buf = [0u8; 8];
            let n = within("recv", dgram.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"dgram");

            // Each conversion needs the right socket type, and says which.
            let misuse = [
                UnixSocket::new_datagram().unwrap().listen(1).unwrap_err(),
                UnixSocket::new_datagram()
                    .unwrap()
                    .connect(dgram_path.path())
                    .await
                    .unwrap_err(),
                UnixSocket::new_stream().unwrap().datagram().unwrap_err(),
            ];
            for err in misuse {
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
                assert!(err.to_string().contains("UnixSocket::new_"), "{err}");
            }
        });
    });
}
