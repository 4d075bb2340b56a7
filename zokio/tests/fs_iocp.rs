//! Windows: `File::read_at` and `write_at` as overlapped `ReadFile`/`WriteFile` on
//! the IOCP driver, seen from outside: the driver counts them, the bytes land where
//! they should from any worker, a read dropped in flight strands nothing, a runtime
//! shut down with reads in flight lets them end, a file reused by a second runtime
//! still reads, and a file whose share mode refuses a second handle falls back to
//! the blocking pool with the same results.
#![cfg(windows)]

mod common;

use std::future::Future;
use std::os::windows::fs::OpenOptionsExt;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use common::{flavors_named, temp_path, timed};
use zokio::fs::File;

/// A file of `len` bytes where byte `i` is `i % 251`, and its path.
fn numbered_file(name: &str, len: usize) -> std::path::PathBuf {
    let path = temp_path(name);
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn reads_and_writes_go_through_the_driver_on_every_flavour() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let path = numbered_file("iocp-rw", 1 << 16);
            let before = rt.io_counters();
            let moved = rt.block_on(async {
                let file = File::options()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .await
                    .unwrap();
                let (n, buf) = file.read_at(Vec::with_capacity(1000), 300).await;
                assert_eq!(n.unwrap(), 1000, "{name}");
                assert!(buf
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == ((300 + i) % 251) as u8));
                let (n, _) = file.write_at(vec![7u8; 10], 5).await;
                assert_eq!(n.unwrap(), 10, "{name}");
                let (n, buf) = file.read_at(Vec::with_capacity(20), 0).await;
                assert_eq!(n.unwrap(), 20, "{name}");
                assert_eq!(&buf[..5], &[0, 1, 2, 3, 4], "{name}");
                assert_eq!(&buf[5..15], &[7; 10], "{name}");
                // At and past the end: 0, as `pread` says it.
                let (n, _) = file.read_at(Vec::with_capacity(8), 1 << 16).await;
                assert_eq!(n.unwrap(), 0, "{name}");
                let (n, _) = file.read_at(Vec::with_capacity(8), 1 << 40).await;
                assert_eq!(n.unwrap(), 0, "{name}");
                4
            });
            let did = rt.io_counters() - before;
            assert!(
                did.submitted >= moved,
                "{name}: {moved} positioned calls, but the driver started only {} \
                 operations: they ran elsewhere",
                did.submitted
            );
            drop(rt);
            // The cursor of the file `std` opened never moved; the write is on disk.
            let on_disk = std::fs::read(&path).unwrap();
            assert_eq!(&on_disk[5..15], &[7; 10], "{name}");
            std::fs::remove_file(&path).unwrap();
        }
    });
}

#[test]
fn many_tasks_read_one_file_from_every_worker() {
    timed(|| {
        let path = numbered_file("iocp-many", 1 << 20);
        let rt = common::multi_thread(2);
        rt.block_on(async {
            let file = Arc::new(File::open(&path).await.unwrap());
            let mut tasks = Vec::new();
            for t in 0..64u64 {
                let file = file.clone();
                tasks.push(zokio::spawn(async move {
                    for k in 0..16u64 {
                        let offset = (t * 16 + k) * 1024;
                        let (n, buf) = file.read_at(Vec::with_capacity(1024), offset).await;
                        assert_eq!(n.unwrap(), 1024);
                        let want = ((offset as usize) % 251) as u8;
                        assert_eq!(buf[0], want, "offset {offset}");
                        zokio::task::yield_now().await;
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        });
        drop(rt);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn a_read_dropped_in_flight_strands_nothing() {
    timed(|| {
        let path = numbered_file("iocp-drop", 1 << 16);
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let file = File::open(&path).await.unwrap();
                for _ in 0..100 {
                    // Polled once, so the operation starts, then dropped: the driver
                    // keeps the buffer until the system is done with it.
                    let mut read = pin!(file.read_at(Vec::with_capacity(1 << 16), 0));
                    let _ = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                }
                let (n, buf) = file.read_at(Vec::with_capacity(16), 16).await;
                assert_eq!(n.unwrap(), 16, "{name}");
                assert_eq!(buf[0], 16, "{name}");
            });
        }
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn shutdown_with_reads_in_flight_ends() {
    timed(|| {
        let path = numbered_file("iocp-shutdown", 1 << 20);
        let rt = common::multi_thread(2);
        let file = Arc::new(rt.block_on(File::open(&path)).unwrap());
        for t in 0..32u64 {
            let file = file.clone();
            rt.spawn(async move {
                loop {
                    let (n, _) = file.read_at(Vec::with_capacity(4096), t * 4096).await;
                    n.unwrap();
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(rt);
        drop(file);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn a_file_outlives_its_first_runtime() {
    timed(|| {
        let path = numbered_file("iocp-two-runtimes", 4096);
        let first = common::multi_thread(2);
        let file = first.block_on(File::open(&path)).unwrap();
        let (n, _) = first.block_on(file.read_at(Vec::with_capacity(10), 0));
        assert_eq!(n.unwrap(), 10);
        drop(first);
        // The overlapped handle reported to the first runtime's port, now closed: a
        // new one is opened for the second runtime.
        let second = common::current_thread();
        let (n, buf) = second.block_on(file.read_at(Vec::with_capacity(10), 100));
        assert_eq!(n.unwrap(), 10);
        assert_eq!(buf[0], 100);
        drop(second);
        drop(file);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn a_file_that_admits_no_second_handle_uses_the_blocking_pool() {
    timed(|| {
        let path = numbered_file("iocp-exclusive", 4096);
        for (name, rt) in flavors_named() {
            // Share mode 0: the system refuses every other open, our own included.
            let std = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .share_mode(0)
                .open(&path)
                .unwrap();
            let file = File::from_std(std);
            rt.block_on(async {
                let (n, _) = file.write_at(vec![9u8; 4], 8).await;
                assert_eq!(n.unwrap(), 4, "{name}");
                let (n, buf) = file.read_at(Vec::with_capacity(16), 0).await;
                assert_eq!(n.unwrap(), 16, "{name}");
                assert_eq!(&buf[8..12], &[9; 4], "{name}");
                assert_eq!(buf[12], 12, "{name}");
            });
            drop(file);
        }
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn writing_a_read_only_file_is_refused() {
    timed(|| {
        let path = numbered_file("iocp-read-only", 16);
        let rt = common::current_thread();
        rt.block_on(async {
            // The system refuses a writing handle on a file opened to read, and the
            // write itself: the error says so, and the file is untouched.
            let file = File::open(&path).await.unwrap();
            let (result, _) = file.write_at(vec![1u8; 4], 0).await;
            let err = result.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
            let (n, buf) = file.read_at(Vec::with_capacity(4), 0).await;
            assert_eq!(n.unwrap(), 4);
            assert_eq!(buf, [0, 1, 2, 3]);
        });
        drop(rt);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn a_file_from_std_reads_through_the_driver_but_never_writes_past_its_access() {
    timed(|| {
        let path = numbered_file("iocp-from-std", 64);
        let rt = common::current_thread();
        let file = File::from_std(std::fs::File::open(&path).unwrap());
        let before = rt.io_counters();
        rt.block_on(async {
            let (n, buf) = file.read_at(Vec::with_capacity(8), 8).await;
            assert_eq!(n.unwrap(), 8);
            assert_eq!(buf[0], 8);
            let (result, _) = file.write_at(vec![1u8; 4], 0).await;
            let err = result.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
        });
        assert!(
            (rt.io_counters() - before).submitted >= 1,
            "the read of a readable disk file goes through the driver"
        );
        drop(rt);
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap()[..4], [0, 1, 2, 3]);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn positioned_calls_on_the_blocking_pool_leave_the_cursor_alone() {
    use zokio::io::{AsyncReadExt, AsyncSeekExt};
    timed(|| {
        let path = numbered_file("iocp-cursor", 4096);
        let rt = common::current_thread();
        rt.block_on(async {
            // Share mode 0: no overlapped handle, so the blocking pool serves these.
            let std = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .share_mode(0)
                .open(&path)
                .unwrap();
            let mut file = File::from_std(std);
            file.seek(std::io::SeekFrom::Start(100)).await.unwrap();
            let (n, _) = file.read_at(Vec::with_capacity(1000), 2000).await;
            assert_eq!(n.unwrap(), 1000);
            let (n, _) = file.write_at(vec![5u8; 10], 3000).await;
            assert_eq!(n.unwrap(), 10);
            let mut next = [0u8; 4];
            file.read_exact(&mut next).await.unwrap();
            assert_eq!(next, [100, 101, 102, 103]);
        });
        drop(rt);
        std::fs::remove_file(&path).unwrap();
    });
}
