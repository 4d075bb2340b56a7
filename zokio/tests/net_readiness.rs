//! tokio's readiness API on streams, on every scheduler flavour, with whichever
//! driver `ZOKIO_DRIVER` picks: an accepted stream starts out ready and a
//! `WouldBlock` clears that; `poll_read_ready`/`poll_write_ready` follow a filled and
//! drained socket; `ready` in a loop sees a peer's close; the vectored and `BufMut`
//! `try_*` calls keep byte order; `try_io`/`async_io` run raw system calls; and bytes
//! the poll-based reader already took (io_uring reads ahead) come first to every
//! other reader, and reach readiness waiters even when the read that took them was
//! dropped.
// Some imports serve only the Unix-socket tests, which Windows does not build.
#![cfg_attr(windows, allow(unused_imports))]

// Tests sockets (`net`), which Windows does not have yet.

mod common;
mod net_common;

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
#[cfg(unix)]
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::poll;
use net_common::*;
use tokio::io::AsyncReadExt;
use zokio::io::Interest;
#[cfg(unix)]
use zokio::net::UnixStream;
use zokio::net::{TcpListener, TcpStream};
use zokio::runtime::Runtime;

fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

fn would_block<T: std::fmt::Debug>(what: &str, result: io::Result<T>) {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected WouldBlock, got {other:?}"),
    }
}

/// Write with `try_write` until the socket is full; the bytes written. (On
/// Windows the last write hands its bytes to a send of the socket's own, and the
/// next one says `WouldBlock` until that send is done.)
fn fill(stream: &TcpStream) -> usize {
    let chunk = vec![7u8; 256 * 1024];
    let mut total = 0;
    loop {
        match stream.try_write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("try_write: {e}"),
        }
    }
}

/// Read `n` bytes with `readable` and `try_read`.
async fn drain(stream: &TcpStream, n: usize) {
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0;
    while got < n {
        within("readable", stream.readable()).await.unwrap();
        match stream.try_read(&mut buf) {
            Ok(0) => panic!("end of stream after {got} of {n} bytes"),
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_read: {e}"),
        }
    }
}

#[test]
fn accepted_stream_starts_ready_until_an_operation_would_block() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (client, server) = tcp_pair().await;
            // Assumed ready, as in tokio: no readiness wait before the first try.
            assert!(poll!(pin!(server.readable())).is_ready(), "{flavor}");
            assert!(poll!(pin!(server.writable())).is_ready(), "{flavor}");
            would_block("first read", server.try_read(&mut [0u8; 16]));
            // The `WouldBlock` cleared it: now a real wait.
            let mut readable = pin!(server.readable());
            assert!(poll!(readable.as_mut()).is_pending(), "{flavor}");
            client.try_write(b"hello").unwrap();
            within("readable", readable).await.unwrap();
            let mut buf = [0u8; 16];
            let n = server.try_read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"hello");
            // A connected (not accepted) stream is not assumed readable.
            would_block("client read", client.try_read(&mut buf));
            assert!(poll!(pin!(client.readable())).is_pending(), "{flavor}");
        });
    });
}

#[test]
fn poll_ready_follows_a_filled_and_drained_socket() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (client, server) = tcp_pair().await;
            within("write ready", poll_fn(|cx| client.poll_write_ready(cx)))
                .await
                .unwrap();
            let written = fill(&client);
            poll_fn(|cx| {
                assert!(client.poll_write_ready(cx).is_pending(), "{flavor}: full");
                Poll::Ready(())
            })
            .await;
            // The wait parked by the last poll wakes this one once there is room.
            let drainer = async { drain(&server, written).await };
            let ((), ready) = futures::join!(
                drainer,
                within("write ready", poll_fn(|cx| client.poll_write_ready(cx)))
            );
            ready.unwrap();

            would_block("empty", server.try_read(&mut [0u8; 8]));
            poll_fn(|cx| {
                assert!(server.poll_read_ready(cx).is_pending(), "{flavor}: empty");
                Poll::Ready(())
            })
            .await;
            client.try_write(b"x").unwrap();
            within("read ready", poll_fn(|cx| server.poll_read_ready(cx)))
                .await
                .unwrap();
            assert_eq!(server.try_read(&mut [0u8; 8]).unwrap(), 1);

            // A peer's close shows in `ready`, even with readiness still cached.
            drop(client);
            loop {
                let ready = within("ready", server.ready(Interest::READABLE))
                    .await
                    .unwrap();
                if ready.is_read_closed() {
                    break;
                }
                zokio::task::yield_now().await;
            }
            assert_eq!(server.try_read(&mut [0u8; 8]).unwrap(), 0);
        });
    });
}

#[test]
fn vectored_and_buf_try_calls_keep_byte_order() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (tcp_a, tcp_b) = tcp_pair().await;
            #[cfg(unix)]
            let (unix_a, unix_b) = UnixStream::pair().unwrap();
            // No Unix sockets on Windows: round 1 runs over a second TCP pair.
            #[cfg(windows)]
            let (unix_a, unix_b) = tcp_pair().await;
            let msg = payload(3, 10_000);
            // Round 0 over TCP, round 1 over a Unix pair: the same calls on both.
            for round in 0..2 {
                let mut sent = 0;
                while sent < msg.len() {
                    let slices: Vec<_> = msg[sent..].chunks(333).map(IoSlice::new).collect();
                    let result = if round == 0 {
                        within("writable", tcp_a.writable()).await.unwrap();
                        tcp_a.try_write_vectored(&slices)
                    } else {
                        within("writable", unix_a.writable()).await.unwrap();
                        unix_a.try_write_vectored(&slices)
                    };
                    match result {
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("try_write_vectored: {e}"),
                    }
                }
                let mut got: Vec<u8> = Vec::with_capacity(msg.len());
                while got.len() < msg.len() {
                    // Alternate between the vectored and the `BufMut` read.
                    let mut a = [0u8; 100];
                    let mut b = [0u8; 900];
                    let result = match (round, got.len() % 2) {
                        (0, 0) => read_vectored(&tcp_b, &mut a, &mut b).await,
                        (0, _) => read_buf(&tcp_b, &mut got).await,
                        (_, 0) => read_vectored(&unix_b, &mut a, &mut b).await,
                        _ => read_buf(&unix_b, &mut got).await,
                    };
                    if let Some(n) = result {
                        let both: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
                        got.extend_from_slice(&both[..n]);
                    }
                }
                assert_bytes_eq("vectored and buf reads", &got, &msg);
            }
        });
    });
}

async fn read_vectored<S: TryReads>(s: &S, a: &mut [u8], b: &mut [u8]) -> Option<usize> {
    s.wait_readable().await;
    let mut bufs = [IoSliceMut::new(a), IoSliceMut::new(b)];
    match s.vectored(&mut bufs) {
        Ok(0) => panic!("end of stream"),
        Ok(n) => Some(n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
        Err(e) => panic!("try_read_vectored: {e}"),
    }
}

async fn read_buf<S: TryReads>(s: &S, got: &mut Vec<u8>) -> Option<usize> {
    s.wait_readable().await;
    let before = got.len();
    match s.buf(got) {
        Ok(0) => panic!("end of stream"),
        Ok(n) => assert_eq!(got.len(), before + n, "try_read_buf advances the buffer"),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => panic!("try_read_buf: {e}"),
    }
    None
}

/// The `try_read*` calls both stream types have.
trait TryReads {
    async fn wait_readable(&self);
    fn vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
    fn buf(&self, got: &mut Vec<u8>) -> io::Result<usize>;
}

impl TryReads for TcpStream {
    async fn wait_readable(&self) {
        within("readable", self.readable()).await.unwrap();
    }
    fn vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.try_read_vectored(bufs)
    }
    fn buf(&self, got: &mut Vec<u8>) -> io::Result<usize> {
        self.try_read_buf(got)
    }
}

#[cfg(unix)]
impl TryReads for UnixStream {
    async fn wait_readable(&self) {
        within("readable", self.readable()).await.unwrap();
    }
    fn vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.try_read_vectored(bufs)
    }
    fn buf(&self, got: &mut Vec<u8>) -> io::Result<usize> {
        self.try_read_buf(got)
    }
}

#[test]
#[cfg(unix)]
fn try_io_and_async_io_run_raw_system_calls() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            // Not known readable: `try_io` answers without calling the closure.
            let called = AtomicBool::new(false);
            let result = b.try_io(Interest::READABLE, || {
                called.store(true, Ordering::Relaxed);
                Ok(())
            });
            would_block("try_io before readiness", result);
            assert!(!called.load(Ordering::Relaxed), "{flavor}");
            let send = |s: &UnixStream, bytes: &[u8]| {
                // SAFETY: `bytes` is valid for reads of its length for the call.
                let n = unsafe {
                    libc::send(
                        s.as_raw_fd(),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            };
            // A fresh pair is known writable.
            assert_eq!(
                a.try_io(Interest::WRITABLE, || send(&a, b"raw")).unwrap(),
                3
            );
            let mut buf = [0u8; 8];
            let n = within(
                "async_io",
                b.async_io(Interest::READABLE, || {
                    // SAFETY: `buf` is valid for writes of its length for the call.
                    let n = unsafe {
                        libc::recv(
                            b.as_raw_fd(),
                            buf.as_mut_ptr().cast(),
                            buf.len(),
                            libc::MSG_DONTWAIT,
                        )
                    };
                    if n < 0 {
                        Err(io::Error::last_os_error())
                    } else {
                        Ok(n as usize)
                    }
                }),
            )
            .await
            .unwrap();
            assert_eq!(&buf[..n], b"raw");
            // The recv that answers `WouldBlock` marks the stream not ready again.
            let result = b.try_io(Interest::READABLE, || {
                // SAFETY: as above.
                let n = unsafe {
                    libc::recv(
                        b.as_raw_fd(),
                        buf.as_mut_ptr().cast(),
                        1,
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            would_block("drained", result);
            assert!(poll!(pin!(b.readable())).is_pending(), "{flavor}");
        });
    });
}

#[test]
fn bytes_read_ahead_come_first_to_every_reader() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (client, mut server) = tcp_pair().await;
            client.try_write(b"abcdefghij").unwrap();
            // A small poll-based read: on io_uring the rest now waits in the
            // stream's read-ahead buffer, on epoll in the kernel.
            let mut three = [0u8; 3];
            within("read", server.read_exact(&mut three)).await.unwrap();
            assert_eq!(&three, b"abc");
            assert!(poll!(pin!(server.readable())).is_ready(), "{flavor}");
            let mut buf = [0u8; 2];
            let n = within("peek", server.peek(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], &b"de"[..n]);
            let n = server.try_read(&mut buf).unwrap();
            assert_eq!(&buf[..n], &b"de"[..n]);
            let mut rest = Vec::new();
            while rest.len() < 10 - 3 - n {
                within("readable", server.readable()).await.unwrap();
                let mut chunk = [0u8; 16];
                let mut bufs = [IoSliceMut::new(&mut chunk[..1]), IoSliceMut::new(&mut [])];
                match server.try_read_vectored(&mut bufs) {
                    Ok(k) => rest.extend_from_slice(&chunk[..k]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("try_read_vectored: {e}"),
                }
            }
            assert_eq!(rest, &b"abcdefghij"[3 + n..]);
        });
    });
}

#[test]
fn a_dropped_read_hands_its_bytes_to_readiness_waiters() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let (client, mut server) = tcp_pair().await;
            // A poll-based read polled once and dropped: on io_uring its receive
            // stays in flight and will take the next bytes.
            {
                let mut buf = [0u8; 64];
                let read = pin!(server.read(&mut buf));
                assert!(poll!(read).is_pending(), "{flavor}");
            }
            would_block("nothing yet", server.try_read(&mut [0u8; 4]));
            let server = Arc::new(server);
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let server = server.clone();
                    zokio::spawn(async move {
                        within("readable", server.ready(Interest::READABLE))
                            .await
                            .unwrap()
                    })
                })
                .collect();
            zokio::task::yield_now().await;
            client.try_write(b"late").unwrap();
            for waiter in waiters {
                let ready = within("waiter", waiter).await.unwrap();
                assert!(ready.is_readable(), "{flavor}: {ready:?}");
            }
            let mut got = Vec::new();
            while got.len() < 4 {
                within("readable", server.readable()).await.unwrap();
                let mut buf = [0u8; 8];
                match server.try_read(&mut buf) {
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("try_read: {e}"),
                }
            }
            assert_eq!(got, b"late");
        });
    });
}
