//! UDP on every scheduler flavour, with whichever driver `ZOKIO_DRIVER` picks:
//! `send_to`/`recv_from` and `connect` + `send`/`recv` with borrowed buffers, the
//! owned-buffer variants with `Vec<u8>`, `Box<[u8]>` and `BytesMut`, an empty
//! datagram, a datagram truncated by a small buffer, a connected socket ignoring
//! other senders, IPv6, options, `try_*` calls and `from_std`/`into_std`. Each step
//! is a ping-pong on loopback, so no datagram can be dropped for lack of room.

// Tests sockets (`net`), which Windows does not have yet.

mod common;
mod net_common;

use std::io;
use std::net::{Ipv6Addr, SocketAddr};

use bytes::BytesMut;
use common::{flavors_named, run_with_timeout, BODY_GUARD};
use net_common::*;
use zokio::net::UdpSocket;
use zokio::runtime::Runtime;

fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

const DATAGRAM_SIZES: [usize; 4] = [1, 1024, 8192, 65_507];

async fn pair() -> (UdpSocket, UdpSocket, SocketAddr, SocketAddr) {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    (a, b, aa, ba)
}

#[test]
fn udp_send_to_recv_from_borrowed() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (a, b, aa, ba) = pair().await;
            for (i, &size) in DATAGRAM_SIZES.iter().enumerate() {
                let msg = payload(i as u64, size);
                assert_eq!(a.send_to(&msg, ba).await.unwrap(), size);
                let mut buf = vec![0u8; 65_536];
                let (n, from) = within("recv_from", b.recv_from(&mut buf)).await.unwrap();
                assert_eq!(from, aa);
                assert_bytes_eq("udp datagram", &buf[..n], &msg);
                // And back, addressed by a string.
                assert_eq!(b.send_to(&msg, aa.to_string()).await.unwrap(), size);
                let (n, from) = within("recv_from", a.recv_from(&mut buf)).await.unwrap();
                assert_eq!(from, ba);
                assert_bytes_eq("udp datagram back", &buf[..n], &msg);
            }
        });
    });
}

async fn owned_round_trip<B: TestBuf>(
    a: &UdpSocket,
    b: &UdpSocket,
    aa: SocketAddr,
    ba: SocketAddr,
) {
    for (i, &size) in DATAGRAM_SIZES.iter().enumerate() {
        let msg = payload(10 + i as u64, size);
        let (res, sent) = a.send_to_owned(B::with_data(&msg), ba).await;
        assert_eq!(res.unwrap(), size, "{} send_to_owned", B::NAME);
        assert_bytes_eq("buffer back from send_to_owned", sent.data(), &msg);
        let (res, got) = within("recv_from_owned", b.recv_from_owned(B::room(65_536))).await;
        let (n, from) = res.unwrap();
        assert_eq!((n, from), (size, aa), "{}", B::NAME);
        assert_bytes_eq(B::NAME, &got.data()[..n], &msg);
    }
}

#[test]
fn udp_owned_variants_with_every_buffer_type() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (a, b, aa, ba) = pair().await;
            owned_round_trip::<Vec<u8>>(&a, &b, aa, ba).await;
            owned_round_trip::<Box<[u8]>>(&b, &a, ba, aa).await;
            owned_round_trip::<BytesMut>(&a, &b, aa, ba).await;

            // Connected: send_owned / recv_owned.
            a.connect(ba).await.unwrap();
            b.connect(aa).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), ba);
            for (i, &size) in DATAGRAM_SIZES.iter().enumerate() {
                let msg = payload(20 + i as u64, size);
                let (res, _) = a.send_owned(BytesMut::from(&msg[..])).await;
                assert_eq!(res.unwrap(), size);
                let (res, got) =
                    within("recv_owned", b.recv_owned(Vec::with_capacity(65_536))).await;
                assert_eq!(res.unwrap(), size);
                assert_bytes_eq("connected owned", &got, &msg);
            }
        });
    });
}

#[test]
fn udp_connected_send_recv_ignores_other_senders() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (a, b, aa, ba) = pair().await;
            let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            a.connect(ba).await.unwrap();
            // The kernel drops what the stranger sends to a socket connected elsewhere.
            stranger.send_to(b"not for you", aa).await.unwrap();
            b.send_to(b"for you", aa).await.unwrap();
            let mut buf = [0u8; 64];
            let n = within("recv", a.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"for you");
            assert_eq!(a.send(b"reply").await.unwrap(), 5);
            let (n, from) = within("recv_from", b.recv_from(&mut buf)).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"reply"[..], aa));
            // Connecting by name.
            b.connect(format!("localhost:{}", aa.port())).await.unwrap();
            assert_eq!(b.peer_addr().unwrap().port(), aa.port());
        });
    });
}

#[test]
fn udp_empty_and_truncated_datagrams() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (a, b, aa, ba) = pair().await;
            // An empty datagram is a datagram: received as 0 bytes from `a`.
            assert_eq!(a.send_to(&[], ba).await.unwrap(), 0);
            let mut buf = [0u8; 16];
            let (n, from) = within("empty", b.recv_from(&mut buf)).await.unwrap();
            assert_eq!((n, from), (0, aa));
            let (res, _) = a.send_to_owned(Vec::new(), ba).await;
            assert_eq!(res.unwrap(), 0);
            let (res, got) = within("empty owned", b.recv_from_owned(Vec::with_capacity(16))).await;
            assert_eq!(res.unwrap(), (0, aa));
            assert!(got.is_empty());
            a.connect(ba).await.unwrap();
            let (res, _) = a.send_owned(Vec::new()).await;
            assert_eq!(res.unwrap(), 0);
            let (res, _) = within("empty recv_owned", b.recv_owned(Vec::with_capacity(16))).await;
            assert_eq!(res.unwrap(), 0);

            // A 100-byte datagram into a 10-byte buffer: 10 bytes, the rest dropped;
            // the next datagram is whole.
            let msg = payload(5, 100);
            a.send(&msg).await.unwrap();
            a.send(b"whole").await.unwrap();
            let mut small = [0u8; 10];
            let (n, from) = within("truncated", b.recv_from(&mut small)).await.unwrap();
            assert_eq!((n, from), (10, aa));
            assert_eq!(small, msg[..10]);
            let (n, _) = within("after", b.recv_from(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"whole");
            // The same with owned buffers.
            a.send(&msg).await.unwrap();
            a.send(&msg).await.unwrap();
            let (res, got) =
                within("owned truncated", b.recv_from_owned(Vec::with_capacity(10))).await;
            assert_eq!(res.unwrap(), (10, aa));
            assert_eq!(got, msg[..10]);
            b.connect(aa).await.unwrap();
            let (res, got) =
                within("owned truncated", b.recv_owned(BytesMut::with_capacity(7))).await;
            assert_eq!(res.unwrap(), 7);
            assert_eq!(&got[..], &msg[..7]);
        });
    });
}

#[test]
fn udp_ipv6_loopback() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let a = match UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("\n!!!!! SKIPPED udp_ipv6_loopback ({flavor}): cannot bind [::1]: {e} !!!!!\n");
                    return;
                }
            };
            let b = UdpSocket::bind("[::1]:0").await.unwrap();
            let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            assert!(aa.is_ipv6());
            a.send_to(b"six", ba).await.unwrap();
            let mut buf = [0u8; 8];
            let (n, from) = within("v6 recv_from", b.recv_from(&mut buf)).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"six"[..], aa));
            owned_round_trip::<Vec<u8>>(&b, &a, ba, aa).await;
        });
    });
}

#[test]
fn udp_options_try_calls_and_std_conversions() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (a, b, aa, ba) = pair().await;
            a.set_broadcast(true).unwrap();
            assert!(a.broadcast().unwrap());
            a.set_ttl(9).unwrap();
            assert_eq!(a.ttl().unwrap(), 9);
            a.set_multicast_loop_v4(true).unwrap();
            a.set_multicast_ttl_v4(2).unwrap();
            assert!(a.take_error().unwrap().is_none());
            assert!(format!("{a:?}").contains("UdpSocket"));

            let mut buf = [0u8; 16];
            let err = b.try_recv_from(&mut buf).expect_err("nothing sent yet");
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            within("writable", a.writable()).await.unwrap();
            a.connect(ba).await.unwrap();
            assert_eq!(a.try_send(b"try").unwrap(), 3);
            within("readable", b.readable()).await.unwrap();
            let (n, from) = b.try_recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (&b"try"[..], aa));
            a.send(b"again").await.unwrap();
            b.connect(aa).await.unwrap();
            within("readable", b.readable()).await.unwrap();
            assert_eq!(b.try_recv(&mut buf).unwrap(), 5);

            // To std and back.
            let std_b = b.into_std().unwrap();
            std_b.set_nonblocking(false).unwrap();
            std_b.set_read_timeout(Some(HANG)).unwrap();
            a.send(b"std").await.unwrap();
            let n = std_b.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"std");
            let b = UdpSocket::from_std(std_b).unwrap();
            a.send(b"zokio").await.unwrap();
            let n = within("recv after from_std", b.recv(&mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"zokio");

            // Bound to a taken port: AddrInUse naming the address.
            let err = UdpSocket::bind(aa).await.expect_err("taken port");
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
            assert!(err.to_string().contains(&aa.to_string()), "{err}");
        });
    });
}
