//! Drops I/O operations while the kernel (or epoll) still has them, then drops whole
//! runtimes with 10,000 operations in flight, on every scheduler flavour, and prints
//! "ok". CI runs it under valgrind: an operation's buffer freed while the kernel may
//! still write it, or any buffer leaked by shutdown, fails the run.
//!
//! The driver follows `ZOKIO_DRIVER` (`io_uring`, `epoll` or `auto`).
//!
//! Not yet available on Windows, which does not have the descriptor operations of `zokio::io::ops` yet:
//! there `main` only says so.

#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
#[cfg(unix)]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(unix)]
use std::sync::Arc;
#[cfg(unix)]
use std::time::{Duration, Instant};

#[cfg(unix)]
use zokio::io::{ops, Interest};
#[cfg(unix)]
use zokio::runtime::{Builder, Runtime};

#[cfg(unix)]
fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "multi_thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            Builder::new_current_thread().build().unwrap(),
        ),
        (
            "thread_per_core",
            Builder::new_thread_per_core()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ]
}

/// A non-blocking pipe `(read end, write end)`.
#[cfg(unix)]
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", std::io::Error::last_os_error());
    // SAFETY: fresh descriptors, owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in fds {
        // SAFETY: fcntl on descriptors `ends` owns; they stay open for the calls.
        // (`pipe2` would set both flags at once, but macOS lacks it.)
        unsafe {
            let status = libc::fcntl(fd, libc::F_GETFL);
            assert_eq!(libc::fcntl(fd, libc::F_SETFL, status | libc::O_NONBLOCK), 0);
            assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
        }
    }
    ends
}

/// Start a read on an empty pipe, drop it in flight, write, and read everything back.
/// On io_uring the dropped read may have consumed a prefix before its cancel landed;
/// what the second read gets must then be the rest, never anything else.
#[cfg(unix)]
fn drop_one_read(rt: &Runtime) {
    let (r, w) = pipe();
    let payload: Vec<u8> = (0..100u8).collect();
    rt.block_on(async {
        let mut read = Box::pin(ops::read(r.as_fd(), Vec::with_capacity(64)));
        assert!(futures::poll!(read.as_mut()).is_pending());
        // Let the worker submit it to the kernel.
        ops::timeout(Duration::from_millis(2)).await.unwrap();
        drop(read);
        let (res, _) = ops::write(w.as_fd(), payload.clone()).await;
        assert_eq!(res.unwrap(), payload.len());
        let (res, got) = ops::read(r.as_fd(), Vec::with_capacity(256)).await;
        let n = res.unwrap();
        assert!(
            n > 0 && got[..] == payload[payload.len() - n..],
            "corrupted: {got:?}"
        );
    });
}

/// Spawn 10,000 tasks each waiting on an operation that never completes (8,000
/// reads of empty pipes, 1,000 hour-long timeouts, 1,000 readiness waits), then drop
/// the runtime.
#[cfg(unix)]
fn shutdown_in_flight(name: &str, rt: Runtime) {
    let pipes: Vec<(Arc<OwnedFd>, OwnedFd)> = (0..100)
        .map(|_| pipe())
        .map(|(r, w)| (Arc::new(r), w))
        .collect();
    let started = Arc::new(AtomicUsize::new(0));
    for i in 0..10_000 {
        let r = pipes[i % pipes.len()].0.clone();
        let started = started.clone();
        rt.spawn(async move {
            started.fetch_add(1, Ordering::SeqCst);
            match i % 10 {
                0 => drop(ops::timeout(Duration::from_secs(3600)).await),
                1 => drop(ops::poll_ready(r.as_fd(), Interest::READABLE).await),
                _ => drop(ops::read(r.as_fd(), Vec::with_capacity(32)).await),
            }
            unreachable!("operation on an empty pipe completed");
        });
    }
    rt.block_on(async {
        // A hang guard, not a speed check: valgrind and AddressSanitizer run this.
        let deadline = Instant::now() + Duration::from_secs(600);
        while started.load(Ordering::SeqCst) < 10_000 {
            assert!(Instant::now() < deadline, "{name}: tasks did not start");
            ops::timeout(Duration::from_millis(1)).await.unwrap();
        }
        ops::timeout(Duration::from_millis(10)).await.unwrap();
    });
    drop(rt);
    // The pipes close only now, after every operation on them is gone.
    for (r, _) in &pipes {
        let mut byte = 0u8;
        // SAFETY: reads one byte into a live local from our own non-blocking pipe.
        let n = unsafe { libc::read(r.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
        assert_eq!(n, -1, "{name}: data appeared in a pipe nobody wrote");
    }
}

#[cfg(unix)]
fn main() {
    for (name, rt) in runtimes() {
        drop_one_read(&rt);
        shutdown_in_flight(name, rt);
    }
    println!("ok");
}

#[cfg(not(unix))]
fn main() {
    eprintln!("drop_in_flight: this example needs the descriptor operations of zokio::io::ops, which is not yet available on Windows");
}
