//! `poll_accept`, peeking through split halves, and connection-ending socket
//! options, on every scheduler flavour, with whichever driver `ZOKIO_DRIVER` picks:
//! `poll_accept` driven by a `poll_fn` on both listener types (parked, then woken by
//! a connection); `accept` futures dropped after a connection woke them closing no
//! descriptor but their own and losing no connection; `peek`/`poll_peek` on borrowed
//! and owned TCP read halves; `set_zero_linger` resetting the connection (the peer's
//! read fails with `ConnectionReset`); and the `TcpSocket` option calls.

// Tests sockets (`net`), which Windows does not have yet.

mod common;
mod net_common;

use std::future::poll_fn;
use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, FromRawSocket, IntoRawSocket};
use std::pin::pin;
use std::time::Duration;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::poll;
use net_common::*;
use tokio::io::{AsyncReadExt, ReadBuf};
use zokio::net::{TcpListener, TcpSocket, TcpStream};
#[cfg(unix)]
use zokio::net::{UnixListener, UnixStream};
use zokio::runtime::Runtime;

fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

#[test]
fn poll_accept_from_a_poll_fn_on_both_listeners() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Parked first: nothing to accept yet.
            let mut accept = pin!(poll_fn(|cx| listener.poll_accept(cx)));
            assert!(poll!(accept.as_mut()).is_pending(), "{flavor}");
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, peer) = within("poll_accept", accept).await.unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(server.peer_addr().unwrap(), peer);
            // One already waiting is taken at once.
            let second = TcpStream::connect(addr).await.unwrap();
            let (_, peer) = within("poll_accept", poll_fn(|cx| listener.poll_accept(cx)))
                .await
                .unwrap();
            assert_eq!(peer, second.local_addr().unwrap());

            #[cfg(unix)]
            {
                let path = TempPath::new("poll-accept");
                let listener = UnixListener::bind(path.path()).unwrap();
                let mut accept = pin!(poll_fn(|cx| listener.poll_accept(cx)));
                assert!(poll!(accept.as_mut()).is_pending(), "{flavor}");
                let client = UnixStream::connect(path.path()).await.unwrap();
                let (server, _) = within("unix poll_accept", accept).await.unwrap();
                client.try_write(b"hi").unwrap();
                within("readable", server.readable()).await.unwrap();
                assert_eq!(server.try_read(&mut [0u8; 4]).unwrap(), 2);
            }
        });
    });
}

/// Accept futures polled once, then dropped after a connection came (on epoll,
/// the connection wakes every one of them; on io_uring, one of them takes it). None
/// may close a descriptor it does not own (the process would abort on the `std`
/// descriptor check) and the connection is not lost: the next `accept` gets it.
#[test]
fn accepts_dropped_after_a_connection_came_close_nothing_and_lose_nothing() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            {
                let mut accepts: Vec<_> = (0..8).map(|_| Box::pin(listener.accept())).collect();
                for accept in &mut accepts {
                    assert!(poll!(accept.as_mut()).is_pending(), "{flavor}");
                }
                let client = std::net::TcpStream::connect(addr).unwrap();
                // Let the completions land before the futures go.
                zokio::time::sleep(Duration::from_millis(50)).await;
                drop(accepts);
                let (_, peer) = within("accept after the drops", listener.accept())
                    .await
                    .unwrap();
                assert_eq!(peer, client.local_addr().unwrap(), "{flavor}");
            }
            // Standard output and error are still open.
            #[cfg(unix)]
            for fd in [1, 2] {
                // SAFETY: `F_GETFD` only reads the descriptor's flags.
                let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
                assert!(flags >= 0, "{flavor}: descriptor {fd} was closed");
            }
        });
    });
}

#[test]
fn peek_on_borrowed_and_owned_read_halves() {
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();

            server.try_write(b"borrowed").unwrap();
            let (mut read, _write) = client.split();
            let mut buf = [0u8; 32];
            let n1 = within("peek", read.peek(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n1], &b"borrowed"[..n1]);
            let mut filled = [0u8; 32];
            let mut rb = ReadBuf::new(&mut filled);
            let n2 = within("poll_peek", poll_fn(|cx| read.poll_peek(cx, &mut rb)))
                .await
                .unwrap();
            assert_eq!(rb.filled().len(), n2);
            assert_eq!(rb.filled(), &b"borrowed"[..n2]);
            let mut got = vec![0u8; 8];
            within("read", read.read_exact(&mut got)).await.unwrap();
            assert_eq!(got, b"borrowed", "{flavor}: peeking took nothing");

            let (mut read, write) = client.into_split();
            server.try_write(b"owned").unwrap();
            let n = within("owned peek", read.peek(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], &b"owned"[..n]);
            let mut rb = ReadBuf::new(&mut filled);
            within("owned poll_peek", poll_fn(|cx| read.poll_peek(cx, &mut rb)))
                .await
                .unwrap();
            assert_eq!(rb.filled(), &b"owned"[..rb.filled().len()]);
            let mut got = vec![0u8; 5];
            within("read", read.read_exact(&mut got)).await.unwrap();
            assert_eq!(got, b"owned");
            // The halves' own readiness and try calls.
            would_block(read.try_read(&mut buf));
            assert_eq!(write.try_write(b"back").unwrap(), 4);
            within("writable", write.writable()).await.unwrap();
            let mut back = [0u8; 4];
            within("server read", async {
                let mut have = 0;
                while have < 4 {
                    server.readable().await.unwrap();
                    if let Ok(n) = server.try_read(&mut back[have..]) {
                        have += n;
                    }
                }
            })
            .await;
            assert_eq!(&back, b"back");
            // Nothing more: `peek` waits, so it is pending now.
            let mut peek = pin!(read.peek(&mut buf));
            assert!(poll!(peek.as_mut()).is_pending(), "{flavor}");
        });
    });
}

fn would_block<T: std::fmt::Debug>(result: io::Result<T>) {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

#[test]
fn zero_linger_resets_the_connection() {
    // Wine closes a socket whose `SO_LINGER` is 0 with a FIN, not the reset that
    // Windows and Unix send (a plain `std` socket shows the same there).
    #[cfg(windows)]
    if common::under_wine() {
        eprintln!("skipped under Wine: no abortive close with SO_LINGER 0");
        return;
    }
    each_flavor(|flavor, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            assert_eq!(server.linger().unwrap(), None);
            server.set_zero_linger().unwrap();
            assert_eq!(server.linger().unwrap(), Some(Duration::ZERO));
            drop(server);
            let mut buf = [0u8; 8];
            let err = within("read after reset", client.read(&mut buf))
                .await
                .expect_err("a reset connection reads an error, not an end of stream");
            assert_eq!(
                err.kind(),
                io::ErrorKind::ConnectionReset,
                "{flavor}: {err}"
            );
        });
    });
}

#[test]
fn tcp_socket_options_and_raw_descriptors() {
    run_with_timeout(BODY_GUARD, || {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_keepalive(true).unwrap();
        assert!(socket.keepalive().unwrap());
        socket.set_nodelay(true).unwrap();
        assert!(socket.nodelay().unwrap());
        assert_eq!(socket.linger().unwrap(), None);
        socket.set_zero_linger().unwrap();
        assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));
        #[allow(deprecated)]
        socket.set_linger(None).unwrap();
        assert_eq!(socket.linger().unwrap(), None);
        socket.set_tos_v4(0x10).unwrap();
        assert_eq!(socket.tos_v4().unwrap(), 0x10);
        // `SO_BINDTODEVICE` is Linux's.
        #[cfg(target_os = "linux")]
        assert_eq!(socket.device().unwrap(), None);
        assert!(socket.take_error().unwrap().is_none());

        // Through a raw descriptor (socket, on Windows) and back: the same socket,
        // options kept.
        #[cfg(unix)]
        {
            let fd = socket.into_raw_fd();
            // SAFETY: `fd` came from `into_raw_fd` just above and nothing else owns it.
            let socket = unsafe { TcpSocket::from_raw_fd(fd) };
            assert_eq!(socket.as_raw_fd(), fd);
            assert!(socket.keepalive().unwrap());
        }
        #[cfg(windows)]
        {
            let raw = socket.into_raw_socket();
            // SAFETY: `raw` came from `into_raw_socket` just above and nothing else
            // owns it.
            let socket = unsafe { TcpSocket::from_raw_socket(raw) };
            assert_eq!(socket.as_raw_socket(), raw);
            assert!(socket.keepalive().unwrap());
        }

        #[cfg(unix)]
        if let Ok(v6) = TcpSocket::new_v6() {
            v6.set_tclass_v6(0x20).unwrap();
            assert_eq!(v6.tclass_v6().unwrap(), 0x20);
        }
    });
}

#[test]
fn one_connection_wakes_every_task_waiting_in_accept() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;
    const WAITERS: usize = 20;
    common::timed(|| {
        for (name, rt) in common::flavors_named() {
            rt.block_on(async {
                let listener = Arc::new(zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
                let addr = listener.local_addr().unwrap();
                let connected = Arc::new(AtomicBool::new(false));
                let (pending_tx, mut pending_rx) = zokio::sync::mpsc::unbounded_channel();
                let (woken_tx, mut woken_rx) = zokio::sync::mpsc::unbounded_channel();
                for _ in 0..WAITERS {
                    let (listener, connected) = (listener.clone(), connected.clone());
                    let (pending_tx, woken_tx) = (pending_tx.clone(), woken_tx.clone());
                    zokio::spawn(async move {
                        let mut accept = std::pin::pin!(listener.accept());
                        let mut polled = false;
                        std::future::poll_fn(|cx| {
                            if !polled {
                                polled = true;
                                assert!(std::future::Future::poll(accept.as_mut(), cx).is_pending());
                                pending_tx.send(()).unwrap();
                                std::task::Poll::Pending
                            } else if connected.load(SeqCst) {
                                woken_tx.send(()).unwrap();
                                std::task::Poll::Ready(())
                            } else {
                                std::task::Poll::Pending
                            }
                        })
                        .await;
                    });
                }
                for _ in 0..WAITERS {
                    pending_rx.recv().await.unwrap();
                }
                connected.store(true, SeqCst);
                let _client = zokio::net::TcpStream::connect(addr).await.unwrap();
                for _ in 0..WAITERS {
                    zokio::time::timeout(common::HANG_GUARD, woken_rx.recv())
                        .await
                        .unwrap_or_else(|_| panic!("{name}: a waiter was never woken"))
                        .unwrap();
                }
            });
        }
    });
}
