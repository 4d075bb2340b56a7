//! The poll(2) driver's own edge: descriptors numbered past `FD_SETSIZE` (1024),
//! which select(2) cannot wait on and poll can. A listener and both ends of a
//! connection are moved to numbers above 1500, then serve an echo under
//! `Driver::Poll` on every flavour. (The rest of poll's behaviour is the whole
//! suite, which CI runs once more with `ZOKIO_DRIVER=poll`.)

// Tests sockets (`net`) and descriptors, which Windows does not have yet.
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::time::Duration;

use common::builders;
use zokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::{TcpListener, TcpStream};
use zokio::runtime::{Driver, DriverKind};

const HIGH: i32 = 1500;

/// Raise the soft descriptor limit to hold `HIGH`, where the hard limit allows it.
fn room_for_high_descriptors() -> bool {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live rlimit for the kernel to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return false;
    }
    let wanted = (HIGH as libc::rlim_t + 100).min(limit.rlim_max);
    if limit.rlim_cur < wanted {
        limit.rlim_cur = wanted;
        // SAFETY: as above; raising the soft limit up to the hard one is allowed.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
    limit.rlim_cur > HIGH as libc::rlim_t + 10
}

/// `fd` moved to the lowest free number at or above `at`.
fn renumbered<T: IntoRawFd + FromRawFd>(value: T, at: i32) -> T {
    let fd = value.into_raw_fd();
    // SAFETY: `fd` is ours (taken from `value`); F_DUPFD_CLOEXEC makes a new
    // descriptor for the same socket, and the old number is closed through its
    // OwnedFd right after.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, at) };
    // SAFETY: `fd` is ours and is not used again.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    assert!(
        high >= at,
        "F_DUPFD_CLOEXEC failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `high` is a fresh descriptor for the socket `value` held.
    unsafe { T::from_raw_fd(high) }
}

#[test]
fn descriptors_past_fd_setsize_work_on_poll() {
    if !room_for_high_descriptors() {
        eprintln!("note: the descriptor limit is below {HIGH}; test skipped");
        return;
    }
    for (name, mut builder) in builders() {
        let rt = builder.driver(Driver::Poll).enable_all().build().unwrap();
        assert_eq!(rt.driver_kind(), DriverKind::Poll);
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let std_listener = renumbered(std_listener, HIGH);
        std_listener.set_nonblocking(true).unwrap();
        let echoed = rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            assert!(listener.as_raw_fd() >= HIGH);
            let server = zokio::spawn(async move {
                // Accepted sockets get low numbers; this one waits high.
                let (socket, _) = listener.accept().await.unwrap();
                let mut socket =
                    TcpStream::from_std(renumbered(socket.into_std().unwrap(), HIGH + 1)).unwrap();
                assert!(socket.as_raw_fd() > HIGH);
                let mut buf = [0; 5];
                socket.read_exact(&mut buf).await.unwrap();
                socket.write_all(&buf).await.unwrap();
            });
            // The client end is a blocking std socket on its own thread, so the
            // server really waits in the driver for its bytes.
            let client = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                std::thread::sleep(Duration::from_millis(20));
                stream.write_all(b"hello").unwrap();
                let mut back = [0; 5];
                stream.read_exact(&mut back).unwrap();
                back
            });
            server.await.unwrap();
            client.join().unwrap()
        });
        assert_eq!(&echoed, b"hello", "{name}");
    }
}
