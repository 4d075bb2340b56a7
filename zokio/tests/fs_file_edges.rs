//! `File` edge cases where the poll-based half (tokio's background buffer) meets
//! everything else: positioned I/O ordered after a pending poll-based write, a
//! background call cancelled at shutdown, a write refused at shutdown, empty
//! writes with bytes read ahead, abandoned seeks, offsets no file can have, seek
//! offsets that overflow, and `try_into_std` giving the same file back. Each was a
//! bug; each test failed before its fix. Run under each `ZOKIO_DRIVER`.

use std::future::Future;
use std::io::{ErrorKind, SeekFrom};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::Poll;

use common::{multi_and_current, temp_path};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, ReadBuf};
use zokio::fs::{File, OpenOptions};

mod common;

/// Start a poll-based read of up to `want` bytes at `at`, poll it once and abandon
/// it, then flush: the read finishes in the background and its bytes wait as
/// read-ahead. A read that finished within its one poll handed its bytes out
/// instead, so that case seeks back and tries again.
async fn leave_read_ahead(file: &mut File, at: u64, want: usize) {
    for _ in 0..1000 {
        file.seek(SeekFrom::Start(at)).await.unwrap();
        let mut room = vec![0u8; want];
        let pending = std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut room);
            Poll::Ready(Pin::new(&mut *file).poll_read(cx, &mut buf).is_pending())
        })
        .await;
        file.flush().await.unwrap();
        if pending {
            return;
        }
    }
    panic!("every poll-based read finished within its first poll");
}

#[test]
fn positioned_io_comes_after_a_pending_poll_based_write() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            for round in 0..20 {
                let path = temp_path("order");
                let mut file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)
                    .await
                    .unwrap();
                // Returns once the bytes are in the background buffer.
                file.write_all(&vec![b'a'; 1 << 20]).await.unwrap();
                let (r, got) = file.read_at(Vec::with_capacity(16), 0).await;
                r.unwrap();
                assert_eq!(
                    got, [b'a'; 16],
                    "{flavor} round {round}: read_at missed the write"
                );
                let (r, _) = file.write_at(b"BBBB".to_vec(), 0).await;
                r.unwrap();
                file.flush().await.unwrap();
                let on_disk = std::fs::read(&path).unwrap();
                assert_eq!(
                    &on_disk[..4],
                    b"BBBB",
                    "{flavor} round {round}: overwritten"
                );
                std::fs::remove_file(&path).unwrap();
            }
        });
    }
}

/// A background call cancelled by shutdown is an error, and so is the next one:
/// never a panic from polling a finished handle again. A write the shut-down pool
/// cannot take is refused, not reported as accepted and then dropped.
#[test]
fn calls_after_shutdown_are_errors_and_nothing_is_claimed_written() {
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let path = temp_path("shutdown");
    std::fs::write(&path, b"0123456789").unwrap();
    let open = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap()
    };
    let (reader, writer) = (open(), open());
    rt.shutdown_background();
    handle.block_on(async {
        let mut file = File::from_std(reader);
        let mut buf = [0u8; 4];
        assert!(file.read(&mut buf).await.is_err());
        assert!(file.read(&mut buf).await.is_err());
        assert!(file.flush().await.is_ok());

        let mut file = File::from_std(writer);
        let e = file.write(b"xyz").await.unwrap_err();
        assert!(e.to_string().contains("not accepted"), "{e}");
        assert!(file.flush().await.is_ok());
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn an_empty_write_keeps_the_bytes_read_ahead() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("empty-write");
            std::fs::write(&path, b"0123456789").unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            leave_read_ahead(&mut file, 0, 10).await;
            assert_eq!(file.write(b"").await.unwrap(), 0);
            let mut rest = Vec::new();
            file.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"0123456789", "{flavor}");
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn a_seek_whose_offset_overflows_loses_no_bytes() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("seek-overflow");
            std::fs::write(&path, b"0123456789").unwrap();
            let mut file = File::open(&path).await.unwrap();
            leave_read_ahead(&mut file, 0, 10).await;
            let e = file.seek(SeekFrom::Current(i64::MIN)).await.unwrap_err();
            #[cfg(unix)]
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{flavor}: {e}");
            // Windows' ERROR_NEGATIVE_SEEK, which `std` leaves uncategorized.
            #[cfg(windows)]
            assert_eq!(e.raw_os_error(), Some(131), "{flavor}: {e}");
            let mut rest = Vec::new();
            file.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"0123456789", "{flavor}");
            // And an ordinary relative seek still counts from before the read-ahead.
            leave_read_ahead(&mut file, 2, 4).await;
            assert_eq!(
                file.seek(SeekFrom::Current(1)).await.unwrap(),
                3,
                "{flavor}"
            );
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn offsets_no_file_can_have_are_refused() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("huge-offset");
            std::fs::write(&path, b"0123456789").unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            for offset in [u64::MAX, i64::MAX as u64 + 1] {
                let (r, _) = file.read_at(Vec::with_capacity(4), offset).await;
                assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput, "{flavor}");
                let (r, _) = file.write_at(b"x".to_vec(), offset).await;
                assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput, "{flavor}");
            }
            // A loop that would step past the largest offset stops with an error.
            let near = i64::MAX as u64 - 2;
            let (r, _) = file.read_exact_at(Vec::with_capacity(8), near).await;
            assert!(r.is_err(), "{flavor}");
            // The cursor did not move.
            let mut all = Vec::new();
            file.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"0123456789", "{flavor}");
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn try_into_std_gives_back_the_same_file() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("try-into");
            std::fs::write(&path, b"0123456789").unwrap();
            let mut file = File::open(&path).await.unwrap();
            file.set_max_buf_size(3);
            leave_read_ahead(&mut file, 0, 10).await;
            // A positioned read polled once and dropped may still hold a share.
            {
                let mut read = Box::pin(file.read_at(Vec::with_capacity(1 << 20), 0));
                std::future::poll_fn(|cx| {
                    let _ = read.as_mut().poll(cx);
                    Poll::Ready(())
                })
                .await;
            }
            match file.try_into_std() {
                Ok(std) => drop(std), // the share was already gone: nothing to check
                Err(mut file) => {
                    assert_eq!(file.max_buf_size(), 3, "{flavor}");
                    let mut all = Vec::new();
                    file.read_to_end(&mut all).await.unwrap();
                    assert_eq!(all, b"0123456789", "{flavor}");
                }
            }
            std::fs::remove_file(&path).unwrap();
        });
    }
}

/// futures' `poll_seek` after a seek that was started, abandoned, and whose result
/// another call took: the new seek runs instead of reporting the old position.
#[cfg(feature = "futures-io")]
#[test]
fn a_futures_seek_after_an_abandoned_one_runs() {
    use futures::io::AsyncSeek;
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("futures-seek");
            std::fs::write(&path, b"0123456789").unwrap();
            let mut file = File::open(&path).await.unwrap();
            std::future::poll_fn(|cx| {
                let _ = Pin::new(&mut file).poll_seek(cx, SeekFrom::Start(5));
                Poll::Ready(())
            })
            .await;
            let mut one = [0u8; 1];
            futures::io::AsyncReadExt::read(&mut file, &mut one)
                .await
                .unwrap();
            let at = futures::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(0))
                .await
                .unwrap();
            assert_eq!(at, 0, "{flavor}");
            futures::io::AsyncReadExt::read_exact(&mut file, &mut one)
                .await
                .unwrap();
            assert_eq!(one, *b"0", "{flavor}");
            std::fs::remove_file(&path).unwrap();
        });
    }
}

/// A write or seek the shut-down pool refuses moves the cursor back over the bytes
/// read ahead, as the refused operation would have: the file stays where its user
/// left it.
#[test]
fn a_refused_write_or_seek_keeps_the_cursor_where_the_reader_left_it() {
    use std::io::Seek;
    for refuse_write in [true, false] {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let path = temp_path("refused");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut file = rt.block_on(async {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            leave_read_ahead(&mut file, 0, 10).await;
            file
        });
        rt.shutdown_background();
        handle.block_on(async {
            if refuse_write {
                assert!(file.write(b"xy").await.is_err());
            } else {
                assert!(file.seek(SeekFrom::Current(0)).await.is_err());
            }
        });
        let mut std = file.try_into_std().expect("nothing is in flight");
        assert_eq!(
            std.stream_position().unwrap(),
            0,
            "write refused: {refuse_write}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
        std::fs::remove_file(&path).unwrap();
    }
}

/// A task that keeps reading hot pages (each read completes during its submission,
/// so the task need not yield), even outside the cooperative budget, still lets a
/// timer fire on its worker: the sleeper finishes, and tells the reader to stop.
#[test]
fn timers_fire_beside_a_task_that_never_has_to_wait_for_a_read() {
    common::run_with_timeout(common::BODY_GUARD, || {
        let flavors = [
            (
                "current_thread",
                zokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap(),
            ),
            (
                "multi_thread(1)",
                zokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .build()
                    .unwrap(),
            ),
            (
                "thread_per_core(1)",
                zokio::runtime::Builder::new_thread_per_core()
                    .worker_threads(1)
                    .build()
                    .unwrap(),
            ),
        ];
        for (flavor, rt) in flavors {
            let path = temp_path("hot");
            std::fs::write(&path, vec![3u8; 64 * 1024]).unwrap();
            let task_path = path.clone();
            let reads = rt.block_on(async move {
                zokio::spawn(async move {
                    let file = File::open(&task_path).await.unwrap();
                    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let sleeper_stop = stop.clone();
                    let sleeper = zokio::spawn(async move {
                        for _ in 0..5 {
                            zokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        }
                        sleeper_stop.store(true, Ordering::SeqCst);
                    });
                    let reads = zokio::task::unconstrained(async {
                        let mut reads = 0u64;
                        let mut buf = Vec::with_capacity(4096);
                        while !stop.load(Ordering::SeqCst) {
                            let (r, back) = file.read_at(buf, reads % 16 * 4096).await;
                            r.unwrap();
                            buf = back;
                            reads += 1;
                        }
                        reads
                    })
                    .await;
                    sleeper.await.unwrap();
                    reads
                })
                .await
                .unwrap()
            });
            assert!(reads > 0, "{flavor}");
            std::fs::remove_file(&path).unwrap();
        }
    });
}
