//! `zokio::io::unix::AsyncFd` on descriptors made by hand (pipes, socket pairs,
//! eventfds, pseudo-terminals), on every runtime flavour; run with
//! `ZOKIO_DRIVER=io_uring` and `ZOKIO_DRIVER=epoll` to cover both drivers.
//!
//! The readiness cache behaves as tokio's from the user's side: an uncleared
//! readiness answers the next wait at once, a cleared one makes it wait, `try_io`
//! seeing `WouldBlock` clears it; waits are cancelled when their future or the
//! `AsyncFd` is dropped.

// Tests `io::unix` (AsyncFd), which Windows does not have yet.
#![cfg(unix)]

mod async_fd_common;
mod common;

use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use async_fd_common::{drain, fill, pipe, read, socketpair, stays_pending, write};
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
use async_fd_common::{eventfd, pty};
use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::FutureExt;
use zokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use zokio::io::{Interest, Ready};
use zokio::runtime::Runtime;

fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

fn register<T: AsRawFd>(inner: T) -> AsyncFd<T> {
    // SAFETY: every object given here owns its descriptor and keeps it open and
    // unchanged while the AsyncFd lives.
    unsafe { AsyncFd::register(inner) }.unwrap()
}

fn register_with<T: AsRawFd>(inner: T, interest: Interest) -> AsyncFd<T> {
    // SAFETY: as in `register`.
    unsafe { AsyncFd::register_with_interest(inner, interest) }.unwrap()
}

/// Read what is there through the guard; `Err(())` when the read would block.
fn read_through<T: AsRawFd>(
    guard: &mut AsyncFdReadyGuard<'_, T>,
    buf: &mut [u8],
) -> Result<usize, ()> {
    match guard.try_io(|fd| read(fd.get_ref(), buf)) {
        Ok(result) => Ok(result.unwrap()),
        Err(_would_block) => Err(()),
    }
}

#[test]
fn pipe_ends_wait_for_reading_and_writing() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (r, w) = pipe();
            let reader = Arc::new(register(r));
            let writer = register_with(w, Interest::WRITABLE);

            let guard = writer.writable().await.unwrap();
            assert!(guard.ready().is_writable(), "{name}: {:?}", guard.ready());
            drop(guard);

            assert!(
                stays_pending(reader.readable()).await,
                "{name}: an empty pipe was readable"
            );
            let task = zokio::spawn({
                let reader = reader.clone();
                async move {
                    let mut buf = [0u8; 16];
                    loop {
                        let mut guard = reader.readable().await.unwrap();
                        if let Ok(n) = read_through(&mut guard, &mut buf) {
                            return buf[..n].to_vec();
                        }
                    }
                }
            });
            zokio::task::yield_now().await;
            let w = writer.get_ref().as_raw_fd();
            std::thread::spawn(move || assert_eq!(write(&w, b"ping").unwrap(), 4))
                .join()
                .unwrap();
            assert_eq!(task.await.unwrap(), b"ping", "{name}");
            // Emptied: a read that would block clears the cached readiness.
            let mut guard = reader.readable().await.unwrap();
            assert_eq!(read_through(&mut guard, &mut [0; 4]), Err(()), "{name}");

            // The write end hangs up: the read end is read-closed, and a read gives 0.
            drop(writer);
            let mut guard = reader.readable().await.unwrap();
            assert!(
                guard.ready().is_read_closed(),
                "{name}: {:?}",
                guard.ready()
            );
            assert_eq!(read_through(&mut guard, &mut [0; 4]), Ok(0), "{name}");
        });
    });
}

#[test]
fn socket_pair_readiness_is_what_the_guard_says() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let a = register(a);
            write(&b, b"x").unwrap();

            let mut guard = a
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            assert_eq!(guard.ready(), Ready::READABLE | Ready::WRITABLE, "{name}");
            guard.clear_ready_matching(Ready::READABLE);
            assert_eq!(guard.ready(), Ready::WRITABLE, "{name}");
            guard.clear_ready_matching(Ready::WRITABLE);
            assert_eq!(guard.ready(), Ready::EMPTY, "{name}");

            // Cleared, but still true of the socket: the next wait sees so at once.
            let mut guard = a.ready(Interest::READABLE).await.unwrap();
            assert_eq!(guard.ready(), Ready::READABLE, "{name}");
            assert_eq!(guard.get_inner().as_raw_fd(), a.as_raw_fd(), "{name}");
            assert_eq!(read_through(&mut guard, &mut [0; 4]), Ok(1), "{name}");
            assert_eq!(read_through(&mut guard, &mut [0; 4]), Err(()), "{name}");

            // The peer closes: read-closed and write-closed, also for a writer.
            drop(b);
            let guard = a.ready(Interest::READABLE).await.unwrap();
            assert!(
                guard.ready().is_read_closed(),
                "{name}: {:?}",
                guard.ready()
            );
            let guard = a.writable().await.unwrap();
            assert!(guard.ready().is_writable(), "{name}: {:?}", guard.ready());
        });
    });
}

#[test]
fn a_cleared_readiness_waits_and_an_uncleared_one_does_not() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let a = register(a);
            write(&b, b"1").unwrap();

            let mut guard = a.readable().await.unwrap();
            assert_eq!(read(a.get_ref(), &mut [0; 4]).unwrap(), 1);
            // Not cleared: the next wait returns at once, though the socket is empty
            // now (nothing has said so yet).
            let again = a.readable().now_or_never();
            assert!(
                matches!(again, Some(Ok(_))),
                "{name}: an uncleared readiness waited"
            );
            drop(again);

            guard.clear_ready();
            assert!(
                stays_pending(a.readable()).await,
                "{name}: a cleared readiness came back"
            );
            let waiting = a.readable();
            write(&b, b"2").unwrap();
            let guard = waiting.await.unwrap();
            assert!(guard.ready().is_readable(), "{name}");

            // A guard from before a newer sighting clears nothing.
            let mut old = guard;
            assert_eq!(read(a.get_ref(), &mut [0; 4]).unwrap(), 1);
            let mut newer = a.writable().await.unwrap();
            newer.clear_ready();
            old.clear_ready();
            let again = a.readable().now_or_never();
            assert!(
                matches!(again, Some(Ok(_))),
                "{name}: a stale guard cleared a readiness"
            );
        });
    });
}

#[test]
fn a_would_block_from_try_io_clears_the_readiness() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let a = register(a);
            write(&b, b"ab").unwrap();

            let mut guard = a.readable().await.unwrap();
            let mut buf = [0u8; 8];
            assert_eq!(read_through(&mut guard, &mut buf), Ok(2), "{name}");
            // Not blocked yet: the readiness stays.
            assert!(guard.ready().is_readable(), "{name}");
            assert_eq!(read_through(&mut guard, &mut buf), Err(()), "{name}");
            assert!(guard.ready().is_empty(), "{name}: {:?}", guard.ready());
            assert!(
                stays_pending(a.readable()).await,
                "{name}: readiness survived WouldBlock"
            );

            // The AsyncFd's own try_io: not called when nothing is ready, called when
            // the socket is (the kernel is asked when nothing is cached), and a
            // WouldBlock from it clears what it ran on.
            let mut called = false;
            let res = a.try_io(Interest::READABLE, |_| {
                called = true;
                Ok(())
            });
            assert_eq!(res.unwrap_err().kind(), io::ErrorKind::WouldBlock, "{name}");
            assert!(!called, "{name}: try_io ran without readiness");
            write(&b, b"c").unwrap();
            let n = a
                .try_io(Interest::READABLE, |fd| read(fd, &mut buf))
                .unwrap();
            assert_eq!(n, 1, "{name}");
            let res = a.try_io(Interest::READABLE, |fd| read(fd, &mut buf));
            assert_eq!(res.unwrap_err().kind(), io::ErrorKind::WouldBlock, "{name}");
            assert!(stays_pending(a.readable()).await, "{name}");

            // async_io retries through WouldBlock until the data comes.
            let a = Arc::new(a);
            let reader = zokio::spawn({
                let a = a.clone();
                async move {
                    let mut buf = [0u8; 8];
                    let n = a
                        .async_io(Interest::READABLE, |fd| read(fd, &mut buf))
                        .await?;
                    io::Result::Ok(buf[..n].to_vec())
                }
            });
            zokio::time::sleep(Duration::from_millis(10)).await;
            write(&b, b"late").unwrap();
            assert_eq!(reader.await.unwrap().unwrap(), b"late", "{name}");
        });
    });
}

#[test]
fn the_mut_flavours_give_mutable_access() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let mut a = register(a);
            write(&b, b"m").unwrap();
            let mut guard = a.readable_mut().await.unwrap();
            let n = guard
                .try_io(|fd| read(fd.get_mut(), &mut [0; 2]))
                .unwrap()
                .unwrap();
            assert_eq!(n, 1, "{name}");
            let inner_fd = guard.get_inner_mut().as_raw_fd();
            assert_eq!(inner_fd, guard.get_ref().as_raw_fd(), "{name}");
            assert!(
                guard.try_io(|fd| read(fd.get_mut(), &mut [0; 2])).is_err(),
                "{name}"
            );
            let guard = a.writable_mut().await.unwrap();
            assert!(guard.ready().is_writable(), "{name}");
            drop(guard);
            let n = a
                .async_io_mut(Interest::WRITABLE, |fd| write(&*fd, b"back"))
                .await
                .unwrap();
            assert_eq!(n, 4, "{name}");
            assert_eq!(
                a.try_io_mut(Interest::WRITABLE, |fd| write(&*fd, b"!"))
                    .unwrap(),
                1
            );
            let guard = a.ready_mut(Interest::WRITABLE).await.unwrap();
            assert!(guard.ready().is_writable(), "{name}");
            drop(guard);
            let ready = poll_fn(|cx| a.poll_write_ready_mut(cx).map(|r| r.map(|g| g.ready())));
            assert!(ready.await.unwrap().is_writable(), "{name}");
            assert_eq!(drain(&b), 5, "{name}");
            let inner: OwnedFd = a.into_inner();
            // Handed back open: the peer still sees a live socket.
            assert_eq!(
                read(&b, &mut [0; 1]).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            drop(inner);
            assert_eq!(
                read(&b, &mut [0; 1]).unwrap(),
                0,
                "{name}: into_inner's fd did not close"
            );
        });
    });
}

/// Counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn poll_ready_wakes_the_latest_caller_from_any_thread() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let a = Arc::new(register(a));
            let sent = fill(a.get_ref());

            // A first caller, then a task (on whichever worker) takes over the wait.
            let first = Arc::new(CountingWaker::default());
            let first_waker = Waker::from(first.clone());
            let pending = a.poll_read_ready(&mut Context::from_waker(&first_waker));
            assert!(pending.is_pending(), "{name}: an empty socket was readable");
            let (polled_tx, polled_rx) = zokio::sync::oneshot::channel();
            let reader = zokio::spawn({
                let a = a.clone();
                async move {
                    let mut polled_tx = Some(polled_tx);
                    poll_fn(|cx| {
                        let poll = a.poll_read_ready(cx).map(|r| r.map(|g| g.ready()));
                        if let Some(tx) = polled_tx.take() {
                            let _ = tx.send(());
                        }
                        poll
                    })
                    .await
                }
            });
            polled_rx.await.unwrap();
            // The write direction keeps its own wait, polled from a thread outside
            // every runtime: it goes to the runtime the AsyncFd was registered with.
            let writer = std::thread::spawn({
                let a = a.clone();
                move || {
                    futures::executor::block_on(poll_fn(|cx| {
                        a.poll_write_ready(cx).map(|r| r.map(|g| g.ready()))
                    }))
                }
            });
            zokio::time::sleep(Duration::from_millis(10)).await;
            write(&b, b"r").unwrap();
            let ready = reader.await.unwrap().unwrap();
            assert!(ready.is_readable(), "{name}: {ready:?}");
            assert_eq!(
                first.0.load(Ordering::SeqCst),
                0,
                "{name}: a replaced waker was woken"
            );
            assert!(!writer.is_finished(), "{name}: a full socket was writable");
            assert_eq!(drain(&b), sent, "{name}");
            let ready = zokio::task::spawn_blocking(move || writer.join().unwrap())
                .await
                .unwrap()
                .unwrap();
            assert!(ready.is_writable(), "{name}: {ready:?}");
        });
    });
}

/// Read from `peer` until its other end is seen closed: 0 for the end of the
/// stream. Waits (through the runtime's timer, so its workers keep turning) while
/// the read would block; the test's guard catches a descriptor that never closes.
async fn peer_sees_the_end(peer: &OwnedFd) -> usize {
    loop {
        match read(peer, &mut [0; 1]) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                zokio::time::sleep(Duration::from_millis(1)).await;
            }
            result => return result.unwrap(),
        }
    }
}

#[test]
fn dropping_an_async_fd_while_a_task_waits_on_it() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let number = a.as_raw_fd();
            let (waiting_tx, waiting_rx) = zokio::sync::oneshot::channel();
            let task = zokio::spawn(async move {
                let a = register(a);
                let mut waiting_tx = Some(waiting_tx);
                let wait = a.readable();
                futures::pin_mut!(wait);
                poll_fn(|cx| {
                    let poll = wait.as_mut().poll(cx);
                    if let Some(tx) = waiting_tx.take() {
                        let _ = tx.send(());
                    }
                    poll
                })
                .await
                .map(|_| ())
            });
            waiting_rx.await.unwrap();
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled(), "{name}");
            // The task's AsyncFd was dropped with it, closing the descriptor. On
            // io_uring the cancelled wait holds the open file until the ring has taken
            // the cancel (the worker's next turn), so the peer sees the end then.
            assert_eq!(
                peer_sees_the_end(&b).await,
                0,
                "{name}: the descriptor stayed open"
            );

            // Several waiters on one shared AsyncFd, all dropped.
            let (c, d) = socketpair();
            let c = Arc::new(register(c));
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    let c = c.clone();
                    zokio::spawn(async move { c.readable().await.map(|g| g.ready()) })
                })
                .collect();
            zokio::time::sleep(Duration::from_millis(10)).await;
            for waiter in &waiters {
                waiter.abort();
            }
            for waiter in waiters {
                assert!(waiter.await.unwrap_err().is_cancelled(), "{name}");
            }
            drop(c);
            assert_eq!(
                peer_sees_the_end(&d).await,
                0,
                "{name}: the descriptor stayed open"
            );

            // The number is free again; a new descriptor under it waits as it should.
            let (e, f) = socketpair();
            let reused = e.as_raw_fd() == number || f.as_raw_fd() == number;
            let e = register(e);
            assert!(
                stays_pending(e.readable()).await,
                "{name} (number reused: {reused})"
            );
            write(&f, b"z").unwrap();
            let mut guard = e.readable().await.unwrap();
            assert_eq!(read_through(&mut guard, &mut [0; 2]), Ok(1), "{name}");
        });
    });
}

#[test]
fn many_descriptors_at_once() {
    const PAIRS: usize = 100;
    each_flavor(|name, rt| {
        rt.block_on(async {
            let mut far_ends = Vec::new();
            let mut tasks = Vec::new();
            for i in 0..PAIRS {
                let (near, far) = socketpair();
                far_ends.push(far);
                tasks.push(zokio::spawn(async move {
                    let near = register(near);
                    let mut buf = [0u8; 8];
                    let n = near
                        .async_io(Interest::READABLE, |fd| read(fd, &mut buf))
                        .await?;
                    assert_eq!(&buf[..n], (i as u32).to_le_bytes());
                    let n = near
                        .async_io(Interest::WRITABLE, |fd| write(fd, &buf[..n]))
                        .await?;
                    io::Result::Ok(n)
                }));
            }
            zokio::time::sleep(Duration::from_millis(10)).await;
            for (i, far) in far_ends.iter().enumerate().rev() {
                write(far, &(i as u32).to_le_bytes()).unwrap();
            }
            for task in tasks {
                assert_eq!(task.await.unwrap().unwrap(), 4, "{name}");
            }
            for (i, far) in far_ends.iter().enumerate() {
                let far = register(far.try_clone().unwrap());
                let mut guard = far.readable().await.unwrap();
                let mut buf = [0u8; 8];
                assert_eq!(read_through(&mut guard, &mut buf), Ok(4), "{name}");
                assert_eq!(buf[..4], (i as u32).to_le_bytes(), "{name}");
            }
        });
    });
}

// macOS has no eventfd.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
#[test]
fn eventfds_and_terminals_are_awaitable() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let event = Arc::new(register(eventfd()));
            let waiter = zokio::spawn({
                let event = event.clone();
                async move {
                    let mut count = [0u8; 8];
                    event
                        .async_io(Interest::READABLE, |fd| read(fd, &mut count))
                        .await?;
                    io::Result::Ok(u64::from_ne_bytes(count))
                }
            });
            zokio::time::sleep(Duration::from_millis(10)).await;
            write(event.get_ref(), &5u64.to_ne_bytes()).unwrap();
            assert_eq!(waiter.await.unwrap().unwrap(), 5, "{name}");

            let Some((master, slave)) = pty() else {
                eprintln!("{name}: no pseudo-terminal to test with here; skipped that part");
                return;
            };
            let master = register(master);
            assert!(
                stays_pending(master.readable()).await,
                "{name}: an idle terminal was readable"
            );
            write(&slave, b"tty").unwrap();
            let mut buf = [0u8; 8];
            let n = master
                .async_io(Interest::READABLE, |fd| read(fd, &mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"tty", "{name}");
        });
    });
}

#[test]
fn a_direction_not_registered_sees_only_hang_ups_and_errors() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (a, b) = socketpair();
            let a = register_with(a, Interest::READABLE);
            assert!(
                stays_pending(a.writable()).await,
                "{name}: an unregistered direction woke"
            );
            drop(b);
            let guard = a.writable().await.unwrap();
            assert!(
                guard.ready().is_write_closed(),
                "{name}: {:?}",
                guard.ready()
            );
        });
    });
}

// `IP_RECVERR` (a send error queued on the socket) is Linux only.
#[cfg(target_os = "linux")]
#[test]
fn error_interest_waits_for_a_pending_error() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            // A UDP socket that asks to hear about failed sends: a send to a port
            // nobody listens on comes back as a pending error.
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            let on: libc::c_int = 1;
            // SAFETY: a valid option value of the size given, on an open socket.
            let rc = unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::SOL_IP,
                    libc::IP_RECVERR,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of_val(&on) as libc::socklen_t,
                )
            };
            assert_eq!(rc, 0, "{}", io::Error::last_os_error());
            let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let target = closed.local_addr().unwrap();
            drop(closed);
            let socket = register(socket);
            assert!(
                stays_pending(socket.ready(Interest::ERROR)).await,
                "{name}: no error yet"
            );
            socket.get_ref().send_to(b"anyone?", target).unwrap();
            let guard = socket.ready(Interest::ERROR).await.unwrap();
            assert_eq!(guard.ready(), Ready::ERROR, "{name}");
        });
    });
}

// About epoll's refusals (regular files, directories): Linux only.
#[cfg(target_os = "linux")]
#[test]
fn descriptors_epoll_refuses_are_refused_with_tokios_errors() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let file = std::fs::File::open("/proc/self/exe")
                .or_else(|_| std::fs::File::open(std::env::current_exe().unwrap()))
                .unwrap();
            let raw = file.as_raw_fd();
            // SAFETY: the file owns its descriptor (the call fails anyway).
            let err = unsafe { AsyncFd::register(file) }.unwrap_err();
            let (file, cause) = err.into_parts();
            assert_eq!(
                file.as_raw_fd(),
                raw,
                "{name}: the object did not come back"
            );
            assert_eq!(
                cause.kind(),
                io::ErrorKind::PermissionDenied,
                "{name}: {cause}"
            );
            assert!(
                cause.to_string().contains("regular file"),
                "{name}: {cause}"
            );

            let dir = std::fs::File::open("/").unwrap();
            // SAFETY: as above.
            let err = unsafe { AsyncFd::register(dir) }.unwrap_err();
            assert_eq!(
                io::Error::from(err).kind(),
                io::ErrorKind::PermissionDenied,
                "{name}"
            );

            #[derive(Debug)]
            struct NotOpen;
            impl AsRawFd for NotOpen {
                fn as_raw_fd(&self) -> std::os::fd::RawFd {
                    -1
                }
            }
            // SAFETY: deliberately broken: the registration must refuse it.
            let err = unsafe { AsyncFd::register_with_interest(NotOpen, Interest::READABLE) };
            let cause = err.unwrap_err().into_parts().1;
            let os = std::error::Error::source(&cause)
                .and_then(|s| s.downcast_ref::<io::Error>())
                .and_then(io::Error::raw_os_error);
            assert_eq!(os, Some(libc::EBADF), "{name}: {cause}");

            #[allow(deprecated)]
            let registered = AsyncFd::with_interest(eventfd(), Interest::READABLE);
            assert!(registered.is_ok(), "{name}");
            #[allow(deprecated)]
            let refused = AsyncFd::try_new(NotOpen);
            assert!(refused.is_err(), "{name}");
        });
    });
}

#[test]
fn outside_a_runtime_registration_fails_and_gives_the_object_back() {
    let (a, _b) = socketpair();
    let raw = a.as_raw_fd();
    // SAFETY: the socket owns its descriptor.
    let err = unsafe { AsyncFd::register(a) }.unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
    let (a, _) = err.into_parts();
    assert_eq!(a.as_raw_fd(), raw);
}

#[test]
fn waits_fail_once_the_runtime_is_gone() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let (a, _b) = socketpair();
            let a = {
                let _entered = rt.enter();
                register(a)
            };
            fill(a.get_ref());
            let writable = rt.block_on(async {
                // Seen writable before it was filled? No: filled first, so this waits.
                stays_pending(a.writable()).await
            });
            assert!(writable, "{name}: a full socket was writable");
            // Pending waits of every kind, polled from this (non-runtime) thread.
            let mut readable = Box::pin(a.readable());
            let noop = Waker::noop();
            assert!(
                readable
                    .as_mut()
                    .poll(&mut Context::from_waker(noop))
                    .is_pending(),
                "{name}"
            );
            let mut poll_read =
                Box::pin(poll_fn(|cx| a.poll_read_ready(cx).map(|r| r.map(|_| ()))));
            assert!(
                poll_read
                    .as_mut()
                    .poll(&mut Context::from_waker(noop))
                    .is_pending(),
                "{name}"
            );
            drop(rt);
            assert!(futures::executor::block_on(readable).is_err(), "{name}");
            assert!(futures::executor::block_on(poll_read).is_err(), "{name}");
            let err = futures::executor::block_on(a.readable())
                .map(|_| ())
                .unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
            let err = futures::executor::block_on(poll_fn(|cx| {
                a.poll_write_ready(cx).map(|r| r.map(|_| ()))
            }))
            .unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
        }
    });
}

#[test]
fn debug_output_is_tokios() {
    let rt = common::current_thread();
    let _entered = rt.enter();
    let fd = register(pipe().0);
    let shown = format!("{fd:?}");
    assert!(
        shown.starts_with("AsyncFd { inner: Some(OwnedFd {"),
        "{shown}"
    );
    assert_eq!(
        format!("{:?}", Interest::READABLE | Interest::ERROR),
        "READABLE | ERROR"
    );
}

#[test]
fn async_fd_and_its_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let rt = common::current_thread();
    let _entered = rt.enter();
    let fd = register(pipe().0);
    send_sync(&fd);
    send(&fd.readable());
    send(&fd.ready(Interest::WRITABLE));
    send(&fd.async_io(Interest::READABLE, |_| Ok(())));
}
