//! The native owned-buffer operations (`zokio::io::ops`) on every scheduler flavour,
//! with whichever driver `ZOKIO_DRIVER` picks (CI runs this file once with
//! `io_uring` and once with `epoll`): round trips on files and pipes with `Vec<u8>`,
//! `Box<[u8]>` and `BytesMut`, vectored I/O, `nop`, `timeout`, `poll_ready`, `close`;
//! then bad input and faults (bad descriptors, empty buffers, broken pipes, bursts
//! larger than the submission queue, operations from threads that are not workers,
//! and operations outside any runtime).

// Tests the descriptor operations of `io::ops`, which Windows does not have yet.
#![cfg(unix)]

mod common;
mod io_common;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{flavors_named, run_with_timeout, BODY_GUARD, HANG_GUARD};
use futures::future::join_all;
use io_common::*;
use zokio::io::ops;
use zokio::io::{Interest, IoBufMut};
use zokio::runtime::{Handle, Runtime};

/// A descriptor number that is never open in this process (far above any limit the
/// tests run under). The operations only hand it to the kernel, which says EBADF.
const BAD_FD: i32 = 1_000_000;

fn bad_fd() -> BorrowedFd<'static> {
    // SAFETY: `BAD_FD` is never an open descriptor here, so nothing can be closed or
    // confused through it; the operations only pass the number to the kernel.
    unsafe { BorrowedFd::borrow_raw(BAD_FD) }
}

/// Run `body` on every flavour, on a watchdog thread so a hang fails the test.
fn each_flavor(body: fn(&'static str, &Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            body(name, &rt);
        }
    });
}

/// Write all of `data` at `offset` (`u64::MAX`: the current position), looping on
/// short writes.
async fn write_all_at(fd: BorrowedFd<'_>, data: &[u8], offset: u64) {
    let mut done = 0;
    while done < data.len() {
        let at = if offset == u64::MAX {
            offset
        } else {
            offset + done as u64
        };
        let (res, _) = ops::write_at(fd, data[done..].to_vec(), at).await;
        let n = res.unwrap_or_else(|e| panic!("write_at({at}) failed: {e}"));
        assert!(n > 0, "write_at wrote nothing");
        done += n;
    }
}

/// Read a pipe until end of file, in reads of varying sizes.
async fn read_to_end(fd: BorrowedFd<'_>, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    loop {
        let room = 1 + rng.below(8192) as usize;
        let (res, buf) = ops::read(fd, Vec::with_capacity(room)).await;
        let n = res.unwrap_or_else(|e| panic!("read failed: {e}"));
        assert_eq!(
            buf.len(),
            n,
            "read must set the Vec's length to the bytes read"
        );
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf);
    }
}

/// The buffer types under test, seen the same way.
trait TestBuf: IoBufMut + Sized {
    const NAME: &'static str;
    fn from_bytes(bytes: &[u8]) -> Self;
    fn with_room(room: usize) -> Self;
    /// The bytes a read of `n` bytes left in the buffer.
    fn read_bytes(&self, n: usize) -> &[u8];
}

impl TestBuf for Vec<u8> {
    const NAME: &'static str = "Vec<u8>";
    fn from_bytes(bytes: &[u8]) -> Self {
        bytes.to_vec()
    }
    fn with_room(room: usize) -> Self {
        Vec::with_capacity(room)
    }
    fn read_bytes(&self, n: usize) -> &[u8] {
        assert_eq!(self.len(), n, "Vec: length must equal the bytes read");
        self
    }
}

impl TestBuf for Box<[u8]> {
    const NAME: &'static str = "Box<[u8]>";
    fn from_bytes(bytes: &[u8]) -> Self {
        bytes.into()
    }
    fn with_room(room: usize) -> Self {
        vec![0xAB; room].into_boxed_slice()
    }
    fn read_bytes(&self, n: usize) -> &[u8] {
        assert!(
            self[n..].iter().all(|&b| b == 0xAB),
            "Box: bytes past the read must be untouched"
        );
        &self[..n]
    }
}

impl TestBuf for BytesMut {
    const NAME: &'static str = "BytesMut";
    fn from_bytes(bytes: &[u8]) -> Self {
        BytesMut::from(bytes)
    }
    fn with_room(room: usize) -> Self {
        BytesMut::with_capacity(room)
    }
    fn read_bytes(&self, n: usize) -> &[u8] {
        assert_eq!(self.len(), n, "BytesMut: length must equal the bytes read");
        self
    }
}

/// Random positioned writes into a file (kept in a model), then many concurrent
/// random positioned reads, each checked against the model.
fn file_round_trip<B: TestBuf>(flavor: &str, rt: &Runtime, seed: u64) {
    let tmp = TempFile::new("rt");
    let fd = tmp.file.as_fd();
    rt.block_on(async {
        let mut rng = Rng::new(seed);
        let mut model: Vec<u8> = Vec::new();
        for i in 0..40 {
            let off = rng.below(200_000) as usize;
            let len = 1 + rng.below(16_384) as usize;
            let data = random_bytes(seed ^ i, len);
            let (res, back) = ops::write_at(fd, B::from_bytes(&data), off as u64).await;
            let n = res.unwrap_or_else(|e| panic!("{flavor} {}: write_at: {e}", B::NAME));
            // A regular file takes a write this small in one go.
            assert_eq!(n, len, "{flavor} {}: short write to a file", B::NAME);
            assert_eq!(back.bytes_init(), len, "the buffer comes back unchanged");
            if model.len() < off + len {
                model.resize(off + len, 0);
            }
            model[off..off + len].copy_from_slice(&data);
        }
        let model = &model;
        let reads = (0..120).map(|_| {
            let off = rng.below(model.len() as u64 + 2_000) as usize;
            let room = 1 + rng.below(20_000) as usize;
            async move {
                let buf = B::with_room(room);
                let cap = buf.bytes_total();
                let (res, buf) = ops::read_at(fd, buf, off as u64).await;
                let n = res.unwrap_or_else(|e| panic!("{flavor} {}: read_at: {e}", B::NAME));
                let start = off.min(model.len());
                let end = (off + cap).min(model.len());
                assert_eq!(n, end - start, "{flavor} {}: read_at({off}) count", B::NAME);
                assert!(
                    buf.read_bytes(n) == &model[start..end],
                    "{flavor} {}: read_at({off}, room {cap}) returned wrong bytes",
                    B::NAME
                );
            }
        });
        join_all(reads).await;
        let on_disk = std::fs::read(&tmp.path).expect("reading the file back");
        assert!(
            on_disk == *model,
            "{flavor} {}: file content differs",
            B::NAME
        );
    });
}

#[test]
fn file_write_at_read_at_vec() {
    each_flavor(|name, rt| file_round_trip::<Vec<u8>>(name, rt, 1));
}

#[test]
fn file_write_at_read_at_boxed_slice() {
    each_flavor(|name, rt| file_round_trip::<Box<[u8]>>(name, rt, 2));
}

#[test]
fn file_write_at_read_at_bytes_mut() {
    each_flavor(|name, rt| file_round_trip::<BytesMut>(name, rt, 3));
}

#[test]
fn read_replaces_vec_length_and_uses_capacity() {
    each_flavor(|name, rt| {
        let tmp = TempFile::new("len");
        let fd = tmp.file.as_fd();
        rt.block_on(async {
            let content = random_bytes(9, 300);
            write_all_at(fd, &content, 0).await;

            // A Vec with stale contents: the read replaces them, up to the capacity.
            let mut stale = vec![7u8; 10];
            stale.reserve_exact(90);
            let cap = stale.capacity();
            let (res, buf) = ops::read_at(fd, stale, 0).await;
            assert_eq!(
                res.unwrap(),
                cap,
                "{name}: reads fill the capacity, not the length"
            );
            assert_eq!(buf, content[..cap], "{name}: stale bytes must be gone");

            // A short read at the end of the file.
            let (res, buf) = ops::read_at(fd, Vec::with_capacity(64), 280).await;
            assert_eq!(res.unwrap(), 20, "{name}: short read at the end");
            assert_eq!(buf, content[280..], "{name}");

            // At and past the end: 0 bytes, an empty Vec with its capacity kept.
            for off in [300, 10_000] {
                let (res, buf) = ops::read_at(fd, vec![1u8; 32], off).await;
                assert_eq!(res.unwrap(), 0, "{name}: read_at({off}) past the end");
                assert!(buf.is_empty() && buf.capacity() >= 32, "{name}: {buf:?}");
            }

            // A write sends the length, never the spare capacity.
            let mut small = Vec::with_capacity(100);
            small.extend_from_slice(b"abc");
            let (res, back) = ops::write_at(fd, small, 400).await;
            assert_eq!(res.unwrap(), 3, "{name}: write sends len bytes");
            assert_eq!(back, b"abc", "{name}: the buffer comes back as it was");
            let len = std::fs::metadata(&tmp.path).unwrap().len();
            assert_eq!(len, 403, "{name}: nothing beyond the length was written");

            // BytesMut: the length becomes the bytes read.
            let (res, buf) = ops::read_at(fd, BytesMut::with_capacity(16), 2).await;
            let n = res.unwrap();
            assert_eq!(&buf[..], &content[2..2 + n], "{name}: BytesMut");
        });
    });
}

#[test]
fn pipe_write_read_round_trip() {
    each_flavor(|name, rt| {
        let (r, w) = pipe();
        let data = Arc::new(random_bytes(42, 300 * 1024));
        let expected = data.clone();
        let got = rt.block_on(async move {
            // More than a pipe holds (64 KiB), so the writer must wait for room.
            let writer = zokio::spawn(async move {
                let mut rng = Rng::new(5);
                let mut done = 0;
                while done < data.len() {
                    let len = (1 + rng.below(40_000) as usize).min(data.len() - done);
                    let chunk = data[done..done + len].to_vec();
                    let (res, _) = ops::write(w.as_fd(), chunk).await;
                    done += res.expect("pipe write");
                }
                // Dropping `w` here closes the write end: the reader sees EOF.
            });
            let reader = zokio::spawn(async move { read_to_end(r.as_fd(), 11).await });
            writer.await.unwrap();
            reader.await.unwrap()
        });
        assert_eq!(got.len(), expected.len(), "{name}: byte count");
        assert!(got == *expected, "{name}: pipe data corrupted");
    });
}

/// Descriptors in blocking mode (what `std` hands out) must not block a worker:
/// here the writer sends more than the pipe holds while the reader runs on the
/// same runtime. io_uring waits in the kernel; epoll must not block in `write(2)`.
#[test]
fn blocking_mode_pipe_does_not_block_the_worker() {
    each_flavor(|name, rt| {
        let (r, w) = blocking_pipe();
        let data = Arc::new(random_bytes(77, 256 * 1024));
        let expected = data.clone();
        let got = rt.block_on(async move {
            let reader = zokio::spawn(async move { read_to_end(r.as_fd(), 3).await });
            let writer = zokio::spawn(async move {
                let mut done = 0;
                while done < data.len() {
                    let (res, _) = ops::write(w.as_fd(), data[done..].to_vec()).await;
                    done += res.expect("pipe write");
                }
            });
            writer.await.unwrap();
            reader.await.unwrap()
        });
        assert!(got == *expected, "{name}: pipe data corrupted");
    });
}

/// Many pipes at once on tasks that move between workers: every operation
/// completes on the driver it was submitted to and wakes its task wherever it is.
#[test]
fn many_pipes_concurrently() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let mut handles = Vec::new();
            for p in 0..48u64 {
                let (r, w) = pipe();
                let data = Arc::new(random_bytes(p, 20_000 + p as usize * 97));
                let sent = data.clone();
                handles.push(zokio::spawn(async move {
                    let mut done = 0;
                    while done < sent.len() {
                        let end = (done + 3_000).min(sent.len());
                        let (res, _) = ops::write(w.as_fd(), sent[done..end].to_vec()).await;
                        done += res.expect("write");
                        zokio::task::yield_now().await;
                    }
                    None
                }));
                handles.push(zokio::spawn(async move {
                    let got = read_to_end(r.as_fd(), p).await;
                    Some((got, data))
                }));
            }
            for h in handles {
                if let Some((got, data)) = h.await.unwrap() {
                    assert!(got == *data, "{name}: a pipe's data was corrupted");
                }
            }
        });
    });
}

#[test]
fn readv_writev_round_trip() {
    each_flavor(|name, rt| {
        let tmp = TempFile::new("vec");
        let fd = tmp.file.as_fd();
        rt.block_on(async {
            // Several Vec buffers at an offset.
            let parts = vec![b"hello ".to_vec(), b"vectored ".to_vec(), b"world".to_vec()];
            let total: usize = parts.iter().map(Vec::len).sum();
            let (res, back) = ops::writev_at(fd, parts, 100).await;
            assert_eq!(res.unwrap(), total, "{name}: writev_at");
            assert_eq!(back.len(), 3, "{name}: the buffers come back");
            let bufs = vec![
                Vec::with_capacity(4),
                Vec::with_capacity(8),
                Vec::with_capacity(64),
            ];
            let caps: Vec<usize> = bufs.iter().map(Vec::capacity).collect();
            let (res, bufs) = ops::readv_at(fd, bufs, 100).await;
            let n = res.unwrap();
            assert_eq!(n, total, "{name}: readv_at");
            let joined: Vec<u8> = bufs.concat();
            assert_eq!(joined, b"hello vectored world", "{name}");
            // Filled in order: each buffer full before the next gets anything.
            let mut left = n;
            for (buf, cap) in bufs.iter().zip(caps) {
                assert_eq!(buf.len(), left.min(cap), "{name}: buffers fill in order");
                left -= buf.len();
            }

            // BytesMut and boxed slices, several buffers, random data.
            let data = random_bytes(8, 3 * 4096);
            let parts: Vec<BytesMut> = data.chunks(4096).map(BytesMut::from).collect();
            let (res, _) = ops::writev_at(fd, parts, 8192).await;
            assert_eq!(res.unwrap(), data.len(), "{name}: writev_at BytesMut");
            let bufs: Vec<Box<[u8]>> = (0..4).map(|_| vec![0u8; 4096].into_boxed_slice()).collect();
            let (res, bufs) = ops::readv_at(fd, bufs, 8192).await;
            assert_eq!(res.unwrap(), data.len(), "{name}: readv_at Box");
            assert!(
                bufs.concat()[..data.len()] == data[..],
                "{name}: Box readv data"
            );

            // A short readv: later buffers stay empty.
            let bufs: Vec<BytesMut> = (0..3).map(|_| BytesMut::with_capacity(8)).collect();
            let end = std::fs::metadata(&tmp.path).unwrap().len();
            let (res, bufs) = ops::readv_at(fd, bufs, end - 5).await;
            assert_eq!(res.unwrap(), 5, "{name}: short readv");
            assert_eq!(bufs[0].len(), 5, "{name}");
            assert!(bufs[1].is_empty() && bufs[2].is_empty(), "{name}");

            // On a pipe, at the current position.
            let (r, w) = pipe();
            let parts = vec![b"ab".to_vec(), b"cde".to_vec(), b"f".to_vec()];
            let (res, _) = ops::writev_at(w.as_fd(), parts, u64::MAX).await;
            assert_eq!(res.unwrap(), 6, "{name}: writev on a pipe");
            let bufs = vec![vec![0u8; 0], Vec::with_capacity(3), Vec::with_capacity(16)];
            let (res, bufs) = ops::readv_at(r.as_fd(), bufs, u64::MAX).await;
            assert_eq!(res.unwrap(), 6, "{name}: readv on a pipe");
            assert_eq!(bufs.concat(), b"abcdef", "{name}");
        });
    });
}

#[test]
fn nop_many_times() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            for i in 0..1_000 {
                ops::nop()
                    .await
                    .unwrap_or_else(|e| panic!("{name}: nop {i}: {e}"));
            }
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    zokio::spawn(async {
                        for _ in 0..250 {
                            ops::nop().await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
}

/// More operations at once than the 256-entry submission queue holds: the queue is
/// flushed and the push retried, never an error.
#[test]
fn burst_beyond_submission_queue() {
    each_flavor(|name, rt| {
        let tmp = TempFile::new("burst");
        std::fs::write(&tmp.path, random_bytes(1, 4096)).unwrap();
        let fd = tmp.file.as_fd();
        rt.block_on(async {
            let results = join_all((0..2_000).map(|_| ops::nop())).await;
            let failed = results.iter().filter(|r| r.is_err()).count();
            assert_eq!(
                failed,
                0,
                "{name}: {failed} of 2000 nops failed: {:?}",
                results.iter().find(|r| r.is_err())
            );

            let reads = (0..1_000u64).map(|i| ops::read_at(fd, Vec::with_capacity(16), i % 4000));
            for (i, (res, buf)) in join_all(reads).await.into_iter().enumerate() {
                assert_eq!(res.unwrap(), 16, "{name}: read {i}");
                assert_eq!(buf.len(), 16);
            }

            // Several tasks bursting at once.
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    zokio::spawn(async {
                        join_all((0..1_000).map(|_| ops::nop()))
                            .await
                            .into_iter()
                            .filter(|r| r.is_err())
                            .count()
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap(), 0, "{name}: nops failed in a task burst");
            }
        });
    });
}

#[test]
fn timeout_waits_at_least_its_duration() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let start = Instant::now();
            ops::timeout(Duration::from_millis(20)).await.unwrap();
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(20),
                "{name}: woke after {took:?}"
            );
            // Only a timeout that never fires (or fires on some other wake-up)
            // gets near this.
            assert!(took < HANG_GUARD, "{name}: took {took:?}");

            ops::timeout(Duration::ZERO).await.unwrap();

            let start = Instant::now();
            let waits = (0..100u64).map(|i| async move {
                let d = Duration::from_millis(10 + i % 30);
                ops::timeout(d).await.unwrap();
                let took = start.elapsed();
                assert!(took >= d, "{name}: a {d:?} timeout woke after {took:?}");
            });
            join_all(waits).await;

            // From a spawned task too.
            zokio::spawn(async {
                let start = Instant::now();
                ops::timeout(Duration::from_millis(25)).await.unwrap();
                assert!(start.elapsed() >= Duration::from_millis(25));
            })
            .await
            .unwrap();
        });
    });
}

#[test]
fn poll_ready_readable_after_write() {
    each_flavor(|name, rt| {
        let (r, w) = pipe();
        let r = Arc::new(r);
        let w = Arc::new(w);
        rt.block_on(async {
            // The write end of an empty pipe is writable at once.
            let ready = ops::poll_ready(w.as_fd(), Interest::WRITABLE)
                .await
                .unwrap();
            assert!(ready.is_writable(), "{name}: {ready:?}");

            // Readable only once another thread wrote.
            let r2 = r.clone();
            let waiter =
                zokio::spawn(async move { ops::poll_ready(r2.as_fd(), Interest::READABLE).await });
            ops::timeout(Duration::from_millis(30)).await.unwrap();
            assert!(!waiter.is_finished(), "{name}: readable before any write");
            let w2 = w.clone();
            std::thread::spawn(move || write_all_sync(w2.as_raw_fd(), b"ping"))
                .join()
                .unwrap();
            let ready = waiter.await.unwrap().unwrap();
            assert!(ready.is_readable(), "{name}: {ready:?}");
            let (res, buf) = ops::read(r.as_fd(), Vec::with_capacity(8)).await;
            assert_eq!(res.unwrap(), 4);
            assert_eq!(buf, b"ping");

            // Readable after a write from another task, with a combined interest.
            let r2 = r.clone();
            // `Interest::PRIORITY` exists only on Linux (tokio's type).
            #[cfg(target_os = "linux")]
            let combined = Interest::READABLE | Interest::PRIORITY;
            #[cfg(not(target_os = "linux"))]
            let combined = Interest::READABLE | Interest::ERROR;
            let waiter = zokio::spawn(async move { ops::poll_ready(r2.as_fd(), combined).await });
            zokio::task::yield_now().await;
            let (res, _) = ops::write(w.as_fd(), b"pong".to_vec()).await;
            assert_eq!(res.unwrap(), 4);
            assert!(waiter.await.unwrap().unwrap().is_readable(), "{name}");
            let (_, buf) = ops::read(r.as_fd(), Vec::with_capacity(8)).await;
            assert_eq!(buf, b"pong");
        });
        // The peer hangs up: readable (a read would return 0) and read-closed.
        drop(w);
        rt.block_on(async {
            let ready = ops::poll_ready(r.as_fd(), Interest::READABLE)
                .await
                .unwrap();
            assert!(
                ready.is_readable() && ready.is_read_closed(),
                "{name}: {ready:?}"
            );
            let (res, buf) = ops::read(r.as_fd(), Vec::with_capacity(8)).await;
            assert_eq!(res.unwrap(), 0, "{name}: end of file");
            assert!(buf.is_empty());
        });
    });
}

#[test]
fn close_releases_the_descriptor() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let (r, w) = pipe();
            let r_dup = dup_high(&r);
            let raw = r_dup.as_raw_fd();
            assert!(!fd_is_closed(raw));
            ops::close(r_dup)
                .await
                .unwrap_or_else(|e| panic!("{name}: close: {e}"));
            assert!(fd_is_closed(raw), "{name}: fd {raw} still open after close");
            // The original descriptor of the same pipe is untouched.
            let (res, _) = ops::write(w.as_fd(), b"x".to_vec()).await;
            res.unwrap();
            let (res, buf) = ops::read(r.as_fd(), Vec::with_capacity(4)).await;
            assert_eq!((res.unwrap(), &buf[..]), (1, &b"x"[..]), "{name}");

            // A regular file.
            let tmp = TempFile::new("close");
            let f = dup_high(&OwnedFd::from(tmp.file.try_clone().unwrap()));
            let raw = f.as_raw_fd();
            ops::close(f).await.unwrap();
            assert!(fd_is_closed(raw), "{name}: file fd {raw} still open");
        });
    });
}

/// `close` takes the descriptor's ownership, so it must be released on every path,
/// as its documentation says ("released even when an error is reported"): when the
/// future is dropped before it ran, and when it fails before reaching a driver
/// (here: no runtime).
#[test]
fn close_never_leaks_the_descriptor() {
    let (r, _w) = pipe();
    let dropped = dup_high(&r);
    let raw = dropped.as_raw_fd();
    drop(ops::close(dropped));
    let leaked_on_drop = !fd_is_closed(raw);

    let outside = dup_high(&r);
    let raw2 = outside.as_raw_fd();
    let res = futures::executor::block_on(ops::close(outside));
    assert!(res.is_err(), "close outside a runtime must fail");
    let leaked_outside = !fd_is_closed(raw2);

    // Clean up whatever leaked so the process does not keep them.
    for fd in [raw, raw2] {
        if !fd_is_closed(fd) {
            // SAFETY: the number was ours (made by dup_high) and nothing else owns it
            // now that the close future is gone.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    assert!(
        !leaked_on_drop && !leaked_outside,
        "close leaked its descriptor: dropped before polled: {leaked_on_drop}, failed \
         outside a runtime: {leaked_outside}"
    );
}

fn assert_ebadf(what: &str, err: &io::Error, fd: i32) {
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("fd {fd}")),
        "{what}: message must name the descriptor: {msg}"
    );
    assert!(
        msg.contains("Bad file descriptor") || msg.contains("os error 9"),
        "{what}: message must say EBADF: {msg}"
    );
}

#[test]
fn invalid_descriptor_reports_ebadf() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            let fd = bad_fd();
            let (res, buf) = ops::read(fd, Vec::with_capacity(8)).await;
            assert_ebadf(&format!("{name} read"), &res.unwrap_err(), BAD_FD);
            assert!(
                buf.is_empty() && buf.capacity() >= 8,
                "{name}: buffer comes back"
            );

            let (res, _) = ops::read_at(fd, BytesMut::with_capacity(8), 0).await;
            assert_ebadf(&format!("{name} read_at"), &res.unwrap_err(), BAD_FD);

            let (res, buf) = ops::write(fd, b"data".to_vec()).await;
            assert_ebadf(&format!("{name} write"), &res.unwrap_err(), BAD_FD);
            assert_eq!(buf, b"data", "{name}: buffer comes back unchanged");

            let (res, _) = ops::write_at(fd, Box::<[u8]>::from(&b"data"[..]), 4).await;
            assert_ebadf(&format!("{name} write_at"), &res.unwrap_err(), BAD_FD);

            let (res, bufs) =
                ops::readv_at(fd, (0..2).map(|_| Vec::with_capacity(4)).collect(), 0).await;
            assert_ebadf(&format!("{name} readv_at"), &res.unwrap_err(), BAD_FD);
            assert_eq!(bufs.len(), 2);

            let (res, _) = ops::writev_at(fd, vec![b"a".to_vec(), b"b".to_vec()], u64::MAX).await;
            assert_ebadf(&format!("{name} writev_at"), &res.unwrap_err(), BAD_FD);

            let err = ops::poll_ready(fd, Interest::READABLE).await.unwrap_err();
            assert_ebadf(&format!("{name} poll_ready"), &err, BAD_FD);

            // A descriptor that was open and is closed now.
            let (r, _w) = pipe();
            let high = dup_high(&r);
            let raw = high.as_raw_fd();
            drop(high);
            // SAFETY: `raw` was just closed and, being far above the lowest free
            // number, is not reused by other tests meanwhile; the kernel says EBADF.
            let closed = unsafe { BorrowedFd::borrow_raw(raw) };
            let (res, _) = ops::read(closed, Vec::with_capacity(8)).await;
            assert_ebadf(
                &format!("{name} read on a closed fd"),
                &res.unwrap_err(),
                raw,
            );
            let (res, _) = ops::write(closed, vec![1]).await;
            assert_ebadf(
                &format!("{name} write on a closed fd"),
                &res.unwrap_err(),
                raw,
            );
        });
        // The runtime still serves after those errors.
        rt.block_on(async { ops::nop().await.unwrap() });
    });
}

#[test]
fn close_of_invalid_descriptor_is_an_error() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            // SAFETY: `BAD_FD` is not open, so owning it takes nothing from anyone; the
            // close operation consumes it, so nothing closes the number twice.
            let fd = unsafe { OwnedFd::from_raw_fd(BAD_FD) };
            let err = ops::close(fd).await.unwrap_err();
            assert_ebadf(&format!("{name} close"), &err, BAD_FD);
        });
    });
}

fn assert_invalid_input(what: &str, err: &io::Error) {
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{what}: {err}");
    assert!(
        err.to_string().contains("fd "),
        "{what}: message names the fd: {err}"
    );
}

#[test]
fn empty_buffers_are_invalid_input() {
    each_flavor(|name, rt| {
        let (r, w) = pipe();
        rt.block_on(async {
            let (res, _) = ops::read(r.as_fd(), Vec::new()).await;
            assert_invalid_input(&format!("{name} read Vec::new()"), &res.unwrap_err());
            let (res, _) = ops::read_at(r.as_fd(), Box::<[u8]>::default(), 0).await;
            assert_invalid_input(&format!("{name} read empty Box"), &res.unwrap_err());
            let (res, _) = ops::read(r.as_fd(), BytesMut::new()).await;
            assert_invalid_input(&format!("{name} read BytesMut::new()"), &res.unwrap_err());

            // Capacity but no length: nothing to write.
            let (res, buf) = ops::write(w.as_fd(), Vec::with_capacity(64)).await;
            assert_invalid_input(&format!("{name} write empty"), &res.unwrap_err());
            assert!(buf.capacity() >= 64, "{name}: buffer comes back");
            let (res, _) = ops::write_at(w.as_fd(), BytesMut::with_capacity(8), 0).await;
            assert_invalid_input(&format!("{name} write_at empty"), &res.unwrap_err());

            let (res, _) = ops::readv_at(r.as_fd(), Vec::<Vec<u8>>::new(), u64::MAX).await;
            assert_invalid_input(&format!("{name} readv no buffers"), &res.unwrap_err());
            let (res, _) = ops::readv_at(r.as_fd(), vec![Vec::new(), Vec::new()], u64::MAX).await;
            assert_invalid_input(&format!("{name} readv empty buffers"), &res.unwrap_err());
            let (res, _) = ops::writev_at(w.as_fd(), vec![Vec::new(); 3], u64::MAX).await;
            assert_invalid_input(&format!("{name} writev empty buffers"), &res.unwrap_err());
            let (res, _) = ops::writev_at(w.as_fd(), Vec::<Vec<u8>>::new(), u64::MAX).await;
            assert_invalid_input(&format!("{name} writev no buffers"), &res.unwrap_err());

            // More buffers than the kernel takes in one call.
            let many = vec![vec![1u8]; 1025];
            let (res, back) = ops::writev_at(w.as_fd(), many, u64::MAX).await;
            assert_invalid_input(&format!("{name} writev 1025 buffers"), &res.unwrap_err());
            assert_eq!(back.len(), 1025);
            let many: Vec<Vec<u8>> = (0..1025).map(|_| Vec::with_capacity(1)).collect();
            let (res, _) = ops::readv_at(r.as_fd(), many, u64::MAX).await;
            assert_invalid_input(&format!("{name} readv 1025 buffers"), &res.unwrap_err());

            // The check comes first: an empty buffer on a bad fd is InvalidInput too.
            let (res, _) = ops::read(bad_fd(), Vec::new()).await;
            assert_invalid_input(&format!("{name} read empty on bad fd"), &res.unwrap_err());

            // Nothing was consumed or written by the refused operations.
            let (res, _) = ops::write(w.as_fd(), b"ok".to_vec()).await;
            res.unwrap();
            let (res, buf) = ops::read(r.as_fd(), Vec::with_capacity(16)).await;
            assert_eq!(res.unwrap(), 2, "{name}");
            assert_eq!(buf, b"ok");
        });
    });
}

#[test]
fn broken_pipe_and_end_of_file() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            // Read end gone: writing fails with BrokenPipe (SIGPIPE is ignored by Rust).
            let (r, w) = pipe();
            drop(r);
            let (res, buf) = ops::write(w.as_fd(), b"lost".to_vec()).await;
            let err = res.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{name}: {err}");
            assert!(err.to_string().contains("write on fd"), "{name}: {err}");
            assert_eq!(buf, b"lost");
            let (res, _) = ops::writev_at(w.as_fd(), vec![b"a".to_vec()], u64::MAX).await;
            assert_eq!(res.unwrap_err().kind(), io::ErrorKind::BrokenPipe, "{name}");

            // Write end gone: reading returns 0 (end of file), also for a waiting read.
            let (r, w) = pipe();
            let r = Arc::new(r);
            let r2 = r.clone();
            let waiting = zokio::spawn(async move {
                let (res, buf) = ops::read(r2.as_fd(), Vec::with_capacity(8)).await;
                (res.unwrap(), buf.len())
            });
            ops::timeout(Duration::from_millis(10)).await.unwrap();
            drop(w);
            assert_eq!(
                waiting.await.unwrap(),
                (0, 0),
                "{name}: waiting read sees EOF"
            );
            let (res, _) = ops::readv_at(r.as_fd(), vec![Vec::with_capacity(4)], u64::MAX).await;
            assert_eq!(res.unwrap(), 0, "{name}: readv at EOF");
        });
    });
}

/// An offset on a descriptor that cannot seek (a pipe) is ignored and the pipe's own
/// position used, as `io::ops` documents, so code means the same on both drivers
/// (io_uring does this natively; epoll must not answer ESPIPE instead).
#[test]
fn offsets_are_ignored_on_a_pipe_by_both_drivers() {
    each_flavor(|name, rt| {
        let (r, w) = pipe();
        rt.block_on(async {
            let (res, _) = ops::write_at(w.as_fd(), b"hello".to_vec(), 3).await;
            assert_eq!(res.unwrap(), 5, "{name}: write_at(offset 3) on a pipe");
            let (res, _) =
                ops::writev_at(w.as_fd(), vec![b" wor".to_vec(), b"ld".to_vec()], 7).await;
            assert_eq!(res.unwrap(), 6, "{name}: writev_at(offset 7) on a pipe");
            let (res, buf) = ops::read_at(r.as_fd(), Vec::with_capacity(4), 2).await;
            assert_eq!(res.unwrap(), 4, "{name}: read_at(offset 2) on a pipe");
            assert_eq!(buf, b"hell", "{name}: read from the pipe's position");
            let bufs = vec![Vec::with_capacity(3), Vec::with_capacity(16)];
            let (res, bufs) = ops::readv_at(r.as_fd(), bufs, 1_000).await;
            assert_eq!(res.unwrap(), 7, "{name}: readv_at(offset 1000) on a pipe");
            assert_eq!(bufs.concat(), b"o world", "{name}");
        });
    });
}

/// The thread calling `block_on` on a multi-thread or thread-per-core runtime is no
/// worker: its operations go to a worker's driver through the request queue.
#[test]
fn operations_from_the_block_on_thread() {
    each_flavor(|name, rt| {
        let tmp = TempFile::new("blockon");
        let fd = tmp.file.as_fd();
        rt.block_on(async {
            ops::nop().await.unwrap();
            let start = Instant::now();
            ops::timeout(Duration::from_millis(15)).await.unwrap();
            assert!(start.elapsed() >= Duration::from_millis(15), "{name}");
            write_all_at(fd, b"from the block_on thread", 5).await;
            let (res, buf) = ops::read_at(fd, Vec::with_capacity(64), 5).await;
            assert_eq!(res.unwrap(), 24, "{name}");
            assert_eq!(buf, b"from the block_on thread");
            // A pipe whose writer is a task on a worker.
            let (r, w) = pipe();
            let writer = zokio::spawn(async move {
                ops::timeout(Duration::from_millis(5)).await.unwrap();
                write_all_at(w.as_fd(), b"to block_on", u64::MAX).await;
            });
            let got = read_to_end(r.as_fd(), 1).await;
            writer.await.unwrap();
            assert_eq!(got, b"to block_on", "{name}");
            let results = join_all((0..600).map(|_| ops::nop())).await;
            assert!(
                results.iter().all(Result::is_ok),
                "{name}: burst from block_on"
            );
        });
    });
}

#[test]
fn operations_from_spawn_blocking_with_handle_block_on() {
    each_flavor(|name, rt| {
        let out = rt.block_on(async {
            let handle = Handle::current();
            zokio::task::spawn_blocking(move || {
                handle.block_on(async {
                    ops::nop().await.unwrap();
                    ops::timeout(Duration::from_millis(5)).await.unwrap();
                    let (r, w) = pipe();
                    let (res, _) = ops::write(w.as_fd(), b"blocking pool".to_vec()).await;
                    res.unwrap();
                    drop(w);
                    read_to_end(r.as_fd(), 2).await
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(out, b"blocking pool", "{name}");
        // From the runtime's blocking pool with the runtime driven by nobody else.
        let handle = rt.handle().clone();
        let out = rt
            .block_on(rt.spawn_blocking(move || {
                handle.block_on(async {
                    let results = join_all((0..300).map(|_| ops::nop())).await;
                    results.iter().filter(|r| r.is_ok()).count()
                })
            }))
            .unwrap();
        assert_eq!(out, 300, "{name}");
    });
}

#[test]
fn operations_outside_a_runtime_are_errors() {
    run_with_timeout(BODY_GUARD, || {
        let check = |what: &str, err: io::Error| {
            let msg = err.to_string();
            assert!(
                msg.contains("no Zokio runtime"),
                "{what}: must say there is no runtime: {msg}"
            );
        };
        check("nop", futures::executor::block_on(ops::nop()).unwrap_err());
        check(
            "timeout",
            futures::executor::block_on(ops::timeout(Duration::from_millis(1))).unwrap_err(),
        );
        let (r, w) = pipe();
        let (res, buf) = futures::executor::block_on(ops::read(r.as_fd(), Vec::with_capacity(8)));
        check("read", res.unwrap_err());
        assert!(buf.capacity() >= 8, "the buffer comes back");
        let (res, buf) = futures::executor::block_on(ops::write(w.as_fd(), b"x".to_vec()));
        check("write", res.unwrap_err());
        assert_eq!(buf, b"x");
        check(
            "poll_ready",
            futures::executor::block_on(ops::poll_ready(r.as_fd(), Interest::READABLE))
                .unwrap_err(),
        );
        // The write really did not happen.
        // SAFETY: reads into a live buffer from our own non-blocking pipe.
        let n = unsafe { libc::read(r.as_raw_fd(), [0u8; 4].as_mut_ptr().cast(), 4) };
        assert_eq!(n, -1, "nothing was written to the pipe");
    });
}

/// After `Runtime::enter()`, a foreign executor's operations reach the runtime's
/// workers (multi-thread and thread-per-core; their workers drive the drivers).
#[test]
fn operations_after_enter_on_a_foreign_executor() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            if name == common::FLAVOR_NAMES[1] {
                continue; // A current-thread runtime runs only inside its block_on.
            }
            let _guard = rt.enter();
            futures::executor::block_on(async {
                ops::nop().await.unwrap();
                ops::timeout(Duration::from_millis(2)).await.unwrap();
            });
        }
    });
}

/// CI runs this file under `ZOKIO_DRIVER=io_uring` and `=epoll`: prove the runtimes
/// really use the driver asked for, so both legs test what they claim. Linux only:
/// the two drivers exist only there.
#[cfg(target_os = "linux")]
#[test]
fn runtimes_use_the_driver_from_the_environment() {
    use zokio::runtime::DriverKind;
    let want = match std::env::var("ZOKIO_DRIVER").as_deref() {
        Ok("epoll") => DriverKind::Epoll,
        Ok("io_uring") => DriverKind::IoUring,
        _ => return,
    };
    for (name, rt) in flavors_named() {
        assert_eq!(rt.driver_kind(), want, "{name}");
        assert_eq!(rt.handle().driver_kind(), want, "{name}");
        let inside = rt.block_on(async { Handle::current().driver_kind() });
        assert_eq!(inside, want, "{name}");
    }
}

#[test]
fn operation_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (r, w) = pipe();
    assert_send(&ops::nop());
    assert_send(&ops::read(r.as_fd(), Vec::with_capacity(1)));
    assert_send(&ops::write_at(w.as_fd(), BytesMut::new(), 0));
    assert_send(&ops::readv_at(r.as_fd(), vec![Box::<[u8]>::default()], 0));
    assert_send(&ops::writev_at(w.as_fd(), vec![vec![0u8]], 0));
    assert_send(&ops::poll_ready(r.as_fd(), Interest::READABLE));
    assert_send(&ops::timeout(Duration::ZERO));
}

/// An OS error keeps its errno reachable (as the error's source) next to the
/// context that names the operation and descriptor.
#[test]
fn os_errors_keep_their_errno_as_source() {
    each_flavor(|name, rt| {
        rt.block_on(async {
            // A number far above any descriptor this process opens: reusing a closed
            // descriptor's number would race with the other tests opening files.
            // SAFETY: deliberately not an open descriptor: the kernel must refuse it.
            let fd = unsafe { BorrowedFd::borrow_raw(BAD_FD) };
            let (res, _) = ops::read(fd, Vec::with_capacity(8)).await;
            let err = res.expect_err("read on a descriptor that is not open");
            assert!(err.to_string().contains("read on fd"), "{name}: {err}");
            let os = err
                .get_ref()
                .and_then(|inner| std::error::Error::source(inner))
                .and_then(|source| source.downcast_ref::<io::Error>())
                .unwrap_or_else(|| panic!("{name}: no OS error under {err:?}"));
            assert_eq!(os.raw_os_error(), Some(libc::EBADF), "{name}");
        });
    });
}
