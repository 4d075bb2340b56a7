//! `zokio::fs::File`: positioned owned-buffer I/O, the tokio poll traits (read,
//! write, seek, and their interplay), durability, ownership conversions and errors,
//! on both runtime flavours. Run under each `ZOKIO_DRIVER`.

mod common;

use std::io::SeekFrom;

use common::{multi_and_current, temp_path};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use zokio::fs::{File, OpenOptions};

/// Deterministic bytes that differ with the seed and the position.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn positioned_owned_round_trips_at_random_offsets() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("positioned");
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            let mut expected = vec![0u8; 1 << 20];
            for (i, len) in [1usize, 100, 4096, 65_536, 300_000].into_iter().enumerate() {
                let offset = (i as u64 * 131_071) % ((1 << 20) - len as u64);
                let data = pattern(i as u64, len);
                let (r, _) = file.write_all_at(data.clone(), offset).await;
                r.unwrap();
                expected[offset as usize..offset as usize + len].copy_from_slice(&data);
            }
            let end = expected.iter().rposition(|&b| b != 0).unwrap() + 1;
            let (r, got) = file.read_exact_at(Vec::with_capacity(end), 0).await;
            r.unwrap();
            assert_eq!(got, expected[..end], "{flavor}: contents differ");
            // Reading past the end gives 0, and read_exact past the end is an error.
            let (r, _) = file.read_at(Vec::with_capacity(16), 10 << 20).await;
            assert_eq!(r.unwrap(), 0);
            let (r, _) = file
                .read_exact_at(Vec::with_capacity(16), end as u64 - 4)
                .await;
            assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
            // An empty buffer is refused, not taken for end of file.
            let (r, _) = file.read_at(Vec::new(), 0).await;
            assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
            drop(file);
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn concurrent_writers_and_readers_at_different_offsets() {
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let path = temp_path("concurrent");
        let file = std::sync::Arc::new(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap(),
        );
        const CHUNK: usize = 8192;
        let mut tasks = Vec::new();
        for i in 0..32u64 {
            let file = file.clone();
            tasks.push(zokio::spawn(async move {
                let data = pattern(i, CHUNK);
                let (r, _) = file.write_all_at(data.clone(), i * CHUNK as u64).await;
                r.unwrap();
                let (r, got) = file
                    .read_exact_at(Vec::with_capacity(CHUNK), i * CHUNK as u64)
                    .await;
                r.unwrap();
                assert_eq!(got, data, "chunk {i}");
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(file.metadata().await.unwrap().len(), 32 * CHUNK as u64);
        drop(file);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn tokio_poll_traits_read_write_seek() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("poll");
            let mut file = File::create(&path).await.unwrap();
            let data = pattern(7, 3 << 20); // larger than one background write
            file.write_all(&data).await.unwrap();
            file.flush().await.unwrap();
            drop(file);
            assert_eq!(
                std::fs::read(&path).unwrap(),
                data,
                "{flavor}: written bytes"
            );

            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut head = [0u8; 10];
            file.read_exact(&mut head).await.unwrap();
            assert_eq!(head, data[..10]);
            // The background read took more than 10 bytes; the cursor must still
            // be at 10 for the caller.
            assert_eq!(file.stream_position().await.unwrap(), 10);
            // A write after a read lands right after what was read.
            file.write_all(b"XYZ").await.unwrap();
            file.flush().await.unwrap();
            assert_eq!(file.seek(SeekFrom::Start(8)).await.unwrap(), 8);
            let mut around = [0u8; 7];
            file.read_exact(&mut around).await.unwrap();
            assert_eq!(&around[..2], &data[8..10]);
            assert_eq!(&around[2..5], b"XYZ");
            assert_eq!(&around[5..], &data[13..15]);
            let end = file.seek(SeekFrom::End(0)).await.unwrap();
            assert_eq!(end, data.len() as u64);
            let mut rest = Vec::new();
            assert_eq!(file.read_to_end(&mut rest).await.unwrap(), 0);
            drop(file);
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn sync_all_then_reopen_sees_the_data() {
    for (_, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("durable");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"durable bytes").await.unwrap();
            file.sync_all().await.unwrap();
            let (r, _) = file.write_all_at(b"D".to_vec(), 0).await;
            r.unwrap();
            file.sync_data().await.unwrap();
            drop(file);
            let mut reopened = File::open(&path).await.unwrap();
            let mut got = String::new();
            reopened.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "Durable bytes");
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn dropping_a_file_with_a_write_in_flight_loses_nothing() {
    for (_, rt) in multi_and_current() {
        let path = temp_path("dropped");
        let data = pattern(3, 1 << 20);
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            // Returns once the bytes are in the file's buffer; the write itself
            // runs in the background and the file is dropped before it finishes.
            let n = file.write(&data).await.unwrap();
            assert_eq!(n, data.len());
            drop(file);
        });
        drop(rt); // waits for the blocking pool
        assert_eq!(std::fs::read(&path).unwrap(), data);
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn set_len_metadata_clone_and_std_conversions() {
    for (_, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("meta");
            let file = File::create(&path).await.unwrap();
            file.set_len(12_345).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 12_345);
            let clone = file.try_clone().await.unwrap();
            clone.set_len(10).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 10);
            let std = file.into_std().await;
            assert_eq!(std.metadata().unwrap().len(), 10);
            let back = File::from_std(std);
            let std = back.try_into_std().expect("nothing is in flight");
            drop((std, clone));
            std::fs::remove_file(&path).unwrap();
        });
    }
}

#[test]
fn open_errors_name_the_path() {
    let rt = zokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let missing = temp_path("does-not-exist");
        let err = File::open(&missing).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        let err = File::create(std::env::temp_dir()).await.unwrap_err();
        assert!(err.to_string().contains("open"), "{err}");
        let long = std::env::temp_dir().join("x".repeat(300));
        let err = File::open(&long).await.unwrap_err();
        assert!(err.to_string().contains("xxxx"), "{err}");
        let err = File::open("bad\0name").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        let path = temp_path("exists");
        File::create(&path).await.unwrap();
        let err = File::create_new(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        std::fs::remove_file(&path).unwrap();
    });
}

/// Every combination of the boolean options opens (or refuses to open) exactly as
/// `std` does: on io_uring the flags are computed by Zokio for `openat`.
#[test]
fn open_options_match_std_for_every_combination() {
    use std::io::{Read as _, Write as _};
    let rt = zokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for bits in 0u32..64 {
            let on = |i: u32| bits & (1 << i) != 0;
            let (read, write, append, truncate, create, create_new) =
                (on(0), on(1), on(2), on(3), on(4), on(5));
            for exists in [false, true] {
                let ours_path = temp_path("combo-ours");
                let std_path = temp_path("combo-std");
                if exists {
                    std::fs::write(&ours_path, b"old").unwrap();
                    std::fs::write(&std_path, b"old").unwrap();
                }
                // The same choices on both builders (they share method names).
                macro_rules! choose {
                    ($options:expr) => {
                        $options
                            .read(read)
                            .write(write)
                            .append(append)
                            .truncate(truncate)
                            .create(create)
                            .create_new(create_new)
                    };
                }
                let ours = choose!(OpenOptions::new()).open(&ours_path).await;
                let theirs = choose!(std::fs::OpenOptions::new()).open(&std_path);
                let what = format!(
                    "read={read} write={write} append={append} truncate={truncate} \
                     create={create} create_new={create_new} exists={exists}"
                );
                match (ours, theirs) {
                    (Ok(ours), Ok(mut theirs)) => {
                        let mut ours = ours.into_std().await;
                        let mut a = String::new();
                        let mut b = String::new();
                        assert_eq!(
                            ours.read_to_string(&mut a).is_ok(),
                            theirs.read_to_string(&mut b).is_ok(),
                            "read access differs: {what}"
                        );
                        assert_eq!(a, b, "contents differ: {what}");
                        assert_eq!(
                            ours.write_all(b"new").is_ok(),
                            theirs.write_all(b"new").is_ok(),
                            "write access differs: {what}"
                        );
                        drop((ours, theirs));
                        assert_eq!(
                            std::fs::read(&ours_path).unwrap(),
                            std::fs::read(&std_path).unwrap(),
                            "file after writing differs: {what}"
                        );
                    }
                    (Err(ours), Err(theirs)) => {
                        assert_eq!(ours.kind(), theirs.kind(), "error kind differs: {what}")
                    }
                    (ours, theirs) => panic!(
                        "outcome differs ({what}): zokio {:?}, std {:?}",
                        ours.map(|_| ()),
                        theirs.map(|_| ())
                    ),
                }
                let _ = std::fs::remove_file(&ours_path);
                let _ = std::fs::remove_file(&std_path);
            }
        }
    });
}

/// Offsets past 4 GiB (in a sparse file) are neither truncated nor wrapped.
#[test]
fn offsets_past_four_gib_round_trip() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("sparse");
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            let far = 5u64 << 30;
            let data = pattern(11, 4096);
            let (r, _) = file.write_all_at(data.clone(), far).await;
            r.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), far + 4096, "{flavor}");
            let (r, got) = file.read_exact_at(Vec::with_capacity(4096), far).await;
            r.unwrap();
            assert_eq!(got, data, "{flavor}");
            // The hole before it reads as zeros.
            let (r, hole) = file
                .read_exact_at(Vec::with_capacity(4096), far - 4096)
                .await;
            r.unwrap();
            assert!(hole.iter().all(|&b| b == 0), "{flavor}");
            drop(file);
            std::fs::remove_file(&path).unwrap();
        });
    }
}

/// Options converted from `std` keep every choice made there, also when more are
/// added after the conversion (the converted choices cannot be read back).
#[test]
fn options_from_std_keep_their_choices() {
    for (flavor, rt) in multi_and_current() {
        rt.block_on(async {
            let path = temp_path("from-std-options");
            let mut std_options = std::fs::OpenOptions::new();
            std_options.create(true);
            let mut options = OpenOptions::from(std_options);
            options.write(true);
            let mut file = options.open(&path).await.unwrap_or_else(|e| {
                panic!("{flavor}: `create` set on the std options was lost: {e}")
            });
            file.write_all(b"kept").await.unwrap();
            file.flush().await.unwrap();
            drop(file);
            assert_eq!(std::fs::read(&path).unwrap(), b"kept", "{flavor}");
            std::fs::remove_file(&path).unwrap();
        });
    }
}

/// An owned-buffer write whose future is dropped after it reached the kernel, with
/// the file dropped right after: the buffer stays alive until the kernel is done
/// (AddressSanitizer runs this file in CI), the descriptor closes after it, and
/// what the file holds is a prefix of the data (the cancel may stop the write
/// before it starts, never garble it).
#[test]
fn a_dropped_positioned_write_leaves_a_prefix_and_frees_nothing_early() {
    for (flavor, rt) in multi_and_current() {
        let path = temp_path("dropped-at");
        let data = pattern(5, 4 << 20);
        let in_task = data.clone();
        let task_path = path.clone();
        rt.block_on(async move {
            let file = File::create(&task_path).await.unwrap();
            {
                let write = file.write_all_at(in_task, 0);
                tokio::pin!(write);
                // One poll submits it; then the future is dropped.
                let polled = futures::poll!(write.as_mut());
                assert!(
                    polled.is_pending() || matches!(polled, std::task::Poll::Ready((Ok(()), _)))
                );
            }
            drop(file);
        });
        drop(rt);
        let got = std::fs::read(&path).unwrap();
        assert!(got.len() <= data.len(), "{flavor}");
        assert!(
            got == data[..got.len()],
            "{flavor}: not a prefix of the data"
        );
        std::fs::remove_file(&path).unwrap();
    }
}

/// Reads the page cache does not hold: dropped from the cache first, so the kernel
/// must go to the disk, and a read submitted eagerly (a lone task on io_uring)
/// does not complete during its submission and must wait for its completion.
#[test]
fn reads_of_pages_not_in_the_cache() {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    use std::os::fd::AsRawFd;
    for (flavor, rt) in multi_and_current() {
        // In a spawned task, so that on either flavour the reads run on a worker,
        // where a lone task's reads are submitted eagerly.
        let task = rt.spawn(async move {
            let path = temp_path("cold");
            let data = pattern(9, 4 << 20);
            std::fs::write(&path, &data).unwrap();
            let std = std::fs::File::open(&path).unwrap();
            // Windows refuses to flush a handle opened only for reading (access denied).
            #[cfg(unix)]
            std.sync_all().unwrap();
            // Elsewhere (macOS, Windows; NetBSD and OpenBSD as `libc` has them) there is
            // no `posix_fadvise` to call: there the pages may stay cached.
            #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
            {
                // SAFETY: a plain system call on an open descriptor.
                let rc = unsafe {
                    libc::posix_fadvise(std.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED)
                };
                assert_eq!(rc, 0, "{flavor}");
            }
            let file = File::from_std(std);
            let (r, got) = file.read_exact_at(Vec::with_capacity(data.len()), 0).await;
            r.unwrap();
            assert!(got == data, "{flavor}: cold read differs");
            let again = zokio::fs::read(&path).await.unwrap();
            assert!(again == data, "{flavor}");
            std::fs::remove_file(&path).unwrap();
        });
        rt.block_on(task).unwrap();
    }
}
