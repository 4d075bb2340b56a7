//! tokio's datagram API on `UnixDatagram` and `UdpSocket`, and Unix socket
//! addresses, on every scheduler flavour, with whichever driver `ZOKIO_DRIVER`
//! picks: readiness and the `try_*` calls filling a pair's queue until `WouldBlock`
//! and draining it; the poll forms (`poll_send`, `poll_recv`, `poll_send_to`,
//! `poll_recv_from`, `poll_*_ready`) from a `poll_fn`; the `BufMut` forms; sender
//! addresses (paths, unnamed senders, Linux's abstract names with
//! `bind_addr`/`connect_addr`); peer credentials; UDP's `peek` family and options.
// Some imports serve only the Unix-socket tests, which Windows does not build.
#![cfg_attr(windows, allow(unused_imports))]

// Tests sockets (`net`), which Windows does not have yet.

mod common;
mod net_common;

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
use std::pin::pin;
use std::task::Poll;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::poll;
use net_common::*;
use tokio::io::ReadBuf;
#[cfg(target_os = "linux")]
use zokio::net::unix::SocketAddr as UnixAddr;
use zokio::net::UdpSocket;
#[cfg(target_os = "linux")]
use zokio::net::UnixListener;
#[cfg(unix)]
use zokio::net::{UnixDatagram, UnixStream};
use zokio::runtime::Runtime;

fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

fn would_block<T: std::fmt::Debug>(what: &str, result: io::Result<T>) {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected WouldBlock, got {other:?}"),
    }
}

#[test]
#[cfg(unix)]
fn unix_datagram_pair_fills_until_would_block_and_drains() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            // A fresh pair is writable without a wait, and not readable.
            let ready = poll_fn(|cx| Poll::Ready(a.poll_send_ready(cx))).await;
            assert!(ready.is_ready(), "{flavor}");
            would_block("empty", b.try_recv(&mut [0u8; 8]));
            let ready = poll_fn(|cx| Poll::Ready(b.poll_recv_ready(cx))).await;
            assert!(ready.is_pending(), "{flavor}");

            let mut sent = 0u32;
            loop {
                match a.try_send(&sent.to_le_bytes()) {
                    Ok(4) => sent += 1,
                    Ok(n) => panic!("a datagram went out in part: {n} bytes"),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("try_send: {e}"),
                }
            }
            assert!(sent > 0);
            assert!(
                poll!(pin!(a.writable())).is_pending(),
                "{flavor}: queue full"
            );
            // Readable now: the parked `poll_recv_ready` above is woken or ready.
            within("recv ready", poll_fn(|cx| b.poll_recv_ready(cx)))
                .await
                .unwrap();
            for expected in 0..sent {
                let mut buf = [0u8; 8];
                let n = loop {
                    within("readable", b.readable()).await.unwrap();
                    match b.try_recv(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("try_recv: {e}"),
                    }
                };
                assert_eq!(&buf[..n], &expected.to_le_bytes(), "{flavor}: in order");
            }
            would_block("drained", b.try_recv(&mut [0u8; 8]));
            within("writable again", a.writable()).await.unwrap();

            // The poll forms, and the `BufMut` ones.
            let n = within("poll_send", poll_fn(|cx| a.poll_send(cx, b"poll")))
                .await
                .unwrap();
            assert_eq!(n, 4);
            let mut space = [0u8; 16];
            let mut rb = ReadBuf::new(&mut space);
            within("poll_recv", poll_fn(|cx| b.poll_recv(cx, &mut rb)))
                .await
                .unwrap();
            assert_eq!(rb.filled(), b"poll");
            a.try_send(b"buf").unwrap();
            let mut got = Vec::with_capacity(16);
            let n = within("recv_buf", b.recv_buf(&mut got)).await.unwrap();
            assert_eq!((n, &got[..]), (3, &b"buf"[..]));
            a.try_send(b"more").unwrap();
            within("readable", b.readable()).await.unwrap();
            let n = b.try_recv_buf(&mut got).unwrap();
            assert_eq!((n, &got[..]), (4, &b"bufmore"[..]));
        });
    });
}

#[test]
#[cfg(unix)]
fn unix_datagram_senders_paths_and_unnamed() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let server_path = TempPath::new("dgram-server");
            let client_path = TempPath::new("dgram-client");
            let server = UnixDatagram::bind(server_path.path()).unwrap();
            let client = UnixDatagram::bind(client_path.path()).unwrap();
            assert_eq!(
                server.local_addr().unwrap().as_pathname(),
                Some(server_path.path())
            );

            within("writable", client.writable()).await.unwrap();
            assert_eq!(client.try_send_to(b"try", server_path.path()).unwrap(), 3);
            within("readable", server.readable()).await.unwrap();
            let mut buf = [0u8; 16];
            let (n, from) = server.try_recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"try");
            assert_eq!(from.as_pathname(), Some(client_path.path()), "{flavor}");
            would_block("drained", server.try_recv_from(&mut buf));

            let n = within(
                "poll_send_to",
                poll_fn(|cx| client.poll_send_to(cx, b"polled", server_path.path())),
            )
            .await
            .unwrap();
            assert_eq!(n, 6);
            let mut space = [0u8; 16];
            let mut rb = ReadBuf::new(&mut space);
            let from = within(
                "poll_recv_from",
                poll_fn(|cx| server.poll_recv_from(cx, &mut rb)),
            )
            .await
            .unwrap();
            assert_eq!(rb.filled(), b"polled");
            assert_eq!(from.as_pathname(), Some(client_path.path()));

            // An unbound sender has an unnamed address.
            let anonymous = UnixDatagram::unbound().unwrap();
            within("send_to", anonymous.send_to(b"anon", server_path.path()))
                .await
                .unwrap();
            let mut got = Vec::with_capacity(16);
            let (n, from) = within("recv_buf_from", server.recv_buf_from(&mut got))
                .await
                .unwrap();
            assert_eq!((n, &got[..]), (4, &b"anon"[..]));
            assert!(
                from.is_unnamed() && from.as_pathname().is_none(),
                "{from:?}"
            );
            anonymous.try_send_to(b"again", server_path.path()).unwrap();
            within("readable", server.readable()).await.unwrap();
            got.clear();
            let (n, from) = server.try_recv_buf_from(&mut got).unwrap();
            assert_eq!((n, &got[..]), (5, &b"again"[..]));
            assert!(from.is_unnamed());
            assert!(server.take_error().unwrap().is_none());

            // A path that does not fit a socket address is refused with a reason.
            let long = "x".repeat(200);
            let err = client.try_send_to(b"x", &long).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        });
    });
}

/// The peer's credentials on every system: a pair of streams in this process.
#[test]
#[cfg(unix)]
fn unix_peer_credentials() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let cred = a.peer_cred().unwrap();
            // SAFETY: `getuid`/`getgid` only read the process's credentials.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            assert_eq!((cred.uid(), cred.gid()), (uid, gid), "{flavor}");
            // Linux and macOS say the process; the other BSDs do not.
            if cfg!(any(target_os = "linux", target_vendor = "apple")) {
                assert_eq!(cred.pid(), Some(std::process::id() as i32), "{flavor}");
            }
            assert_eq!(b.peer_cred().unwrap(), cred, "{flavor}");
        });
    });
}

// Linux's abstract namespace exists nowhere else.
#[cfg(target_os = "linux")]
#[test]
fn unix_abstract_names_and_peer_credentials() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let name = format!("zokio-test-{}-{flavor}", std::process::id());
            let addr: UnixAddr = std::os::unix::net::SocketAddr::from_abstract_name(&name)
                .unwrap()
                .into();
            let listener = UnixListener::bind_addr(&addr).unwrap();
            let local = listener.local_addr().unwrap();
            assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
            assert!(local.as_pathname().is_none() && !local.is_unnamed());

            let (client, accepted) =
                futures::join!(UnixStream::connect_addr(&addr), listener.accept());
            let client = client.unwrap();
            let (server, _) = accepted.unwrap();
            let cred = client.peer_cred().unwrap();
            assert_eq!(cred.pid(), Some(std::process::id() as i32));
            // SAFETY: `getuid`/`getgid` only read the process's credentials.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            assert_eq!((cred.uid(), cred.gid()), (uid, gid));
            assert_eq!(server.peer_cred().unwrap(), cred);

            // The same name written as a path with a leading NUL byte.
            let path = format!("\0{name}");
            let again = within("connect", UnixStream::connect(&path)).await.unwrap();
            let (accepted, _) = within("accept", listener.accept()).await.unwrap();
            assert_eq!(
                accepted.local_addr().unwrap().as_abstract_name(),
                Some(name.as_bytes())
            );
            drop(again);

            // An unnamed address names nothing to connect to.
            let (pair, _) = UnixStream::pair().unwrap();
            let unnamed = pair.local_addr().unwrap();
            assert!(unnamed.is_unnamed());
            let err = UnixStream::connect_addr(&unnamed).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            let std_addr: std::os::unix::net::SocketAddr = local.into();
            assert_eq!(std_addr.as_abstract_name(), Some(name.as_bytes()));
        });
    });
}

#[test]
fn udp_peek_family_and_try_send_to() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (from, to) = (sender.local_addr().unwrap(), receiver.local_addr().unwrap());

            would_block("empty", receiver.try_peek_sender());
            assert!(poll!(pin!(receiver.peek_sender())).is_pending(), "{flavor}");
            within("writable", sender.writable()).await.unwrap();
            assert_eq!(sender.try_send_to(b"first", to).unwrap(), 5);
            assert_eq!(
                within("peek_sender", receiver.peek_sender()).await.unwrap(),
                from
            );
            let mut buf = [0u8; 16];
            let (n, who) = within("peek_from", receiver.peek_from(&mut buf))
                .await
                .unwrap();
            assert_eq!((&buf[..n], who), (&b"first"[..], from));
            let (n, who) = receiver.try_peek_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], who), (&b"first"[..], from));
            assert_eq!(receiver.try_peek_sender().unwrap(), from);
            let who = within(
                "poll_peek_sender",
                poll_fn(|cx| receiver.poll_peek_sender(cx)),
            )
            .await
            .unwrap();
            assert_eq!(who, from);
            let mut space = [0u8; 16];
            let mut rb = ReadBuf::new(&mut space);
            let who = within(
                "poll_peek_from",
                poll_fn(|cx| receiver.poll_peek_from(cx, &mut rb)),
            )
            .await
            .unwrap();
            assert_eq!((rb.filled(), who), (&b"first"[..], from));
            // Peeking took nothing: the datagram is still there, once.
            let mut rb = ReadBuf::new(&mut space);
            let who = within(
                "poll_recv_from",
                poll_fn(|cx| receiver.poll_recv_from(cx, &mut rb)),
            )
            .await
            .unwrap();
            assert_eq!((rb.filled(), who), (&b"first"[..], from));
            would_block("drained", receiver.try_recv_from(&mut buf));

            // Connected: `peek`, `poll_peek`, `try_peek`, `poll_send`, `poll_recv`.
            receiver.connect(from).await.unwrap();
            sender.connect(to).await.unwrap();
            let n = within("poll_send", poll_fn(|cx| sender.poll_send(cx, b"second")))
                .await
                .unwrap();
            assert_eq!(n, 6);
            let n = within("peek", receiver.peek(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"second");
            assert_eq!(receiver.try_peek(&mut buf).unwrap(), 6);
            let mut rb = ReadBuf::new(&mut space);
            within("poll_peek", poll_fn(|cx| receiver.poll_peek(cx, &mut rb)))
                .await
                .unwrap();
            assert_eq!(rb.filled(), b"second");
            let mut rb = ReadBuf::new(&mut space);
            within("poll_recv", poll_fn(|cx| receiver.poll_recv(cx, &mut rb)))
                .await
                .unwrap();
            assert_eq!(rb.filled(), b"second");
            sender.try_send(b"third").unwrap();
            let mut got = Vec::with_capacity(8);
            let n = within("recv_buf", receiver.recv_buf(&mut got))
                .await
                .unwrap();
            assert_eq!((n, &got[..]), (5, &b"third"[..]));
            sender.try_send(b"fourth").unwrap();
            got.clear();
            let (n, who) = within("recv_buf_from", receiver.recv_buf_from(&mut got))
                .await
                .unwrap();
            assert_eq!((n, &got[..], who), (6, &b"fourth"[..], from));
        });
    });
}

#[test]
fn udp_option_getters_follow_their_setters() {
    run_with_timeout(BODY_GUARD, || {
        common::current_thread().block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.set_multicast_loop_v4(false).unwrap();
            assert!(!socket.multicast_loop_v4().unwrap());
            socket.set_multicast_ttl_v4(7).unwrap();
            assert_eq!(socket.multicast_ttl_v4().unwrap(), 7);
            socket.set_tos_v4(0x10).unwrap();
            assert_eq!(socket.tos_v4().unwrap(), 0x10);
            // `SO_BINDTODEVICE` is Linux's.
            #[cfg(target_os = "linux")]
            assert_eq!(socket.device().unwrap(), None);
            let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let wrapped = UdpSocket::try_from(std_socket).unwrap();
            assert!(wrapped.local_addr().unwrap().port() != 0);
            let v6: Result<UdpSocket, _> = UdpSocket::bind("[::1]:0").await;
            if let Ok(v6) = v6 {
                v6.set_multicast_loop_v6(false).unwrap();
                assert!(!v6.multicast_loop_v6().unwrap());
                #[cfg(unix)]
                {
                    v6.set_tclass_v6(0x20).unwrap();
                    assert_eq!(v6.tclass_v6().unwrap(), 0x20);
                }
                let _: SocketAddr = v6.local_addr().unwrap();
            }
        });
    });
}
