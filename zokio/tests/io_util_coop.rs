//! tokio's runtime-independent I/O utilities as `zokio::io` offers them: the names
//! resolve, they work inside Zokio tasks, and the always-ready ones (`empty`,
//! `repeat`, `sink`, `copy` between them, in-memory pipes) spend Zokio's budget, so
//! a loop over them still lets a timer fire on a single worker.

mod common;

use std::time::Duration;

use common::{run_with_timeout, BODY_GUARD};
use zokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader,
    BufStream, BufWriter, ReadBuf, SeekFrom,
};
use zokio::runtime::{Builder, Runtime};

/// One runtime of every flavour with a single worker: a busy task there can only
/// let a timer fire by yielding.
fn single_worker_flavors() -> Vec<(&'static str, Runtime)> {
    let multi = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let current = Builder::new_current_thread().enable_all().build().unwrap();
    let per_core = Builder::new_thread_per_core()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    vec![
        ("multi_thread(1)", multi),
        ("current_thread", current),
        ("thread_per_core(1)", per_core),
    ]
}

/// Run `body` on every single-worker flavour, failing (instead of hanging) if a
/// busy loop never lets the timer fire.
fn on_single_workers(
    body: fn(&'static str) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in single_worker_flavors() {
            rt.block_on(body(name));
        }
    });
}

#[test]
fn an_endless_repeat_read_loop_lets_a_timer_fire() {
    on_single_workers(|name| {
        Box::pin(async move {
            let mut source = zokio::io::repeat(7);
            let mut buf = [0u8; 64];
            let mut reads = 0u64;
            zokio::select! {
                _ = async {
                    loop {
                        let n = source.read(&mut buf).await.unwrap();
                        assert_eq!(n, 64);
                        reads += 1;
                    }
                } => unreachable!(),
                _ = zokio::time::sleep(Duration::from_millis(10)) => {}
            }
            assert!(reads > 0, "{name}: the loop never ran");
            assert!(buf.iter().all(|&b| b == 7), "{name}");
        })
    });
}

#[test]
fn an_endless_empty_read_loop_lets_a_timer_fire() {
    on_single_workers(|name| {
        Box::pin(async move {
            let mut source = zokio::io::empty();
            let mut buf = [0u8; 16];
            let mut reads = 0u64;
            zokio::select! {
                _ = async {
                    loop {
                        assert_eq!(source.read(&mut buf).await.unwrap(), 0);
                        assert!(source.fill_buf().await.unwrap().is_empty());
                        reads += 1;
                    }
                } => unreachable!(),
                _ = zokio::time::sleep(Duration::from_millis(10)) => {}
            }
            assert!(reads > 0, "{name}: the loop never ran");
        })
    });
}

#[test]
fn an_endless_copy_from_repeat_into_sink_lets_a_timer_fire() {
    on_single_workers(|name| {
        Box::pin(async move {
            let mut source = zokio::io::repeat(1);
            let mut sink = zokio::io::sink();
            zokio::select! {
                res = zokio::io::copy(&mut source, &mut sink) => {
                    panic!("{name}: an endless copy ended: {res:?}")
                }
                _ = zokio::time::sleep(Duration::from_millis(10)) => {}
            }
            // The same from another task: the timer's task gets its turn.
            let copier = zokio::spawn(async move {
                let mut source = zokio::io::repeat(1);
                let mut sink = zokio::io::sink();
                zokio::io::copy(&mut source, &mut sink).await
            });
            zokio::time::sleep(Duration::from_millis(10)).await;
            copier.abort();
            assert!(copier.await.unwrap_err().is_cancelled(), "{name}");
        })
    });
}

#[test]
fn an_endless_duplex_loop_lets_a_timer_fire() {
    on_single_workers(|name| {
        Box::pin(async move {
            let (mut a, mut b) = zokio::io::duplex(64);
            let mut buf = [0u8; 64];
            zokio::select! {
                _ = async {
                    loop {
                        a.write_all(b"ping").await.unwrap();
                        b.read_exact(&mut buf[..4]).await.unwrap();
                    }
                } => unreachable!(),
                _ = zokio::time::sleep(Duration::from_millis(10)) => {}
            }
            assert_eq!(&buf[..4], b"ping", "{name}");
        })
    });
}

#[test]
fn finite_copies_count_every_byte() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in common::flavors_named() {
            rt.block_on(async {
                let mut source = zokio::io::repeat(3).take(100_000);
                let mut sink = zokio::io::sink();
                let n = zokio::io::copy(&mut source, &mut sink).await.unwrap();
                assert_eq!(n, 100_000, "{name}");

                let mut reader = BufReader::with_capacity(1000, &b"line one\nline two\n"[..]);
                let mut out = Vec::new();
                let n = zokio::io::copy_buf(&mut reader, &mut out).await.unwrap();
                assert_eq!((n, &out[..]), (18, &b"line one\nline two\n"[..]), "{name}");

                let (mut a, mut b) = zokio::io::duplex(16);
                let peer = zokio::spawn(async move {
                    let mut got = Vec::new();
                    b.write_all(&[9; 5000]).await.unwrap();
                    b.shutdown().await.unwrap();
                    b.read_to_end(&mut got).await.unwrap();
                    got.len()
                });
                let (mut echo_out, mut echo_in) = zokio::io::simplex(32);
                let drain = zokio::spawn(async move {
                    let mut target = Vec::new();
                    echo_out.read_to_end(&mut target).await.unwrap();
                    target.len()
                });
                let mut from_a = (&mut a).take(5000);
                let copied = zokio::io::copy(&mut from_a, &mut echo_in).await.unwrap();
                // A write half dropped leaves the pipe open (the read half shares it):
                // shutting it down is what ends the reader, as on tokio.
                echo_in.shutdown().await.unwrap();
                assert_eq!((copied, drain.await.unwrap()), (5000, 5000), "{name}");
                a.write_all(&[1; 3000]).await.unwrap();
                drop(a);
                assert_eq!(peer.await.unwrap(), 3000, "{name}");
            });
        }
    });
}

#[test]
fn copy_bidirectional_moves_both_ways_until_both_end() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in common::flavors_named() {
            rt.block_on(async {
                let (mut left, left_far) = zokio::io::duplex(128);
                let (mut right, right_far) = zokio::io::duplex(128);
                let proxy = zokio::spawn(async move {
                    zokio::io::copy_bidirectional_with_sizes(&mut left, &mut right, 64, 32).await
                });
                // Each far end writes and reads at once, as a peer of a proxy does.
                let far_end = |end: zokio::io::DuplexStream, byte: u8, len: usize| async move {
                    let (mut from, mut to) = zokio::io::split(end);
                    let send = async {
                        to.write_all(&vec![byte; len]).await.unwrap();
                        to.shutdown().await.unwrap();
                    };
                    let mut got = Vec::new();
                    let (_, read) = zokio::join!(send, from.read_to_end(&mut got));
                    read.unwrap();
                    got
                };
                let left_side = zokio::spawn(far_end(left_far, 1, 10_000));
                let got_right = far_end(right_far, 2, 7_000).await;
                assert_eq!(got_right, vec![1; 10_000], "{name}");
                assert_eq!(left_side.await.unwrap(), vec![2; 7_000], "{name}");
                assert_eq!(proxy.await.unwrap().unwrap(), (10_000, 7_000), "{name}");

                let (mut a, mut a_far) = zokio::io::duplex(8);
                let (mut b, b_far) = zokio::io::duplex(8);
                drop(b_far);
                a_far.write_all(b"x").await.unwrap();
                let err = zokio::io::copy_bidirectional(&mut a, &mut b)
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), zokio::io::ErrorKind::BrokenPipe, "{name}");
            });
        }
    });
}

/// A reader that is never ready and never wakes anyone: `copy` from it must not
/// spin, and must not end.
struct Never;

impl AsyncRead for Never {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Pending
    }
}

#[test]
fn a_copy_from_a_pending_reader_waits() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in common::flavors_named() {
            rt.block_on(async {
                let mut sink = zokio::io::sink();
                let mut never = Never;
                let copy = zokio::io::copy(&mut never, &mut sink);
                let res = zokio::time::timeout(Duration::from_millis(20), copy).await;
                assert!(res.is_err(), "{name}: the copy ended: {res:?}");
            });
        }
    });
}

#[test]
fn tokio_names_resolve_to_tokio_items() {
    run_with_timeout(BODY_GUARD, || {
        let rt = common::current_thread();
        rt.block_on(async {
            // Buffered adapters, split, join, the extension traits and `Lines`.
            let mut lines = BufReader::new(&b"a\nb\n"[..]).lines();
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("a"));
            let _: &zokio::io::Lines<BufReader<&[u8]>> = &lines;
            let (r, w) = zokio::io::split(zokio::io::SimplexStream::new_unsplit(16));
            let mut joined = zokio::io::join(r, w);
            joined.write_all(b"hi").await.unwrap();
            let mut two = [0; 2];
            joined.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"hi");
            let (_r, _w): (zokio::io::ReadHalf<_>, zokio::io::WriteHalf<_>) = joined.into_inner();
            let chained: zokio::io::Chain<&[u8], &[u8]> = (&b"x"[..]).chain(&b"y"[..]);
            let mut both = String::new();
            let mut chained = chained;
            chained.read_to_string(&mut both).await.unwrap();
            assert_eq!(both, "xy");
            let mut segments: zokio::io::Split<&[u8]> = AsyncBufReadExt::split(&b"p,q"[..], b',');
            assert_eq!(segments.next_segment().await.unwrap().unwrap(), b"p");
            let _: zokio::io::Take<zokio::io::Repeat> = zokio::io::repeat(0).take(1);

            let mut writer = BufWriter::new(Vec::new());
            writer.write_all(b"buffered").await.unwrap();
            writer.flush().await.unwrap();
            assert_eq!(writer.get_ref().as_slice(), b"buffered");
            let mut stream = BufStream::new(std::io::Cursor::new(b"0123456789".to_vec()));
            stream.seek(SeekFrom::Start(4)).await.unwrap();
            assert_eq!(stream.read_u8().await.unwrap(), b'4');

            let mut empty = zokio::io::empty();
            assert_eq!(empty.seek(SeekFrom::Start(9)).await.unwrap(), 0);
            assert_eq!(empty.write(b"gone").await.unwrap(), 4);

            // The native names stay.
            let _: zokio::io::BufResult<usize, Vec<u8>> = (Ok(0), Vec::new());
            let err: zokio::io::Error = zokio::io::ErrorKind::Other.into();
            let res: zokio::io::Result<()> = Err(err);
            assert!(res.is_err());

            // A zokio reader is a tokio reader: tokio's generic code takes it.
            fn takes_tokio_reader(_: &impl tokio::io::AsyncRead) {}
            takes_tokio_reader(&zokio::io::repeat(1));
            fn takes_tokio_writer(_: &impl tokio::io::AsyncWrite) {}
            takes_tokio_writer(&zokio::io::sink());
            fn takes_unpin_send_sync(_: &(impl Unpin + Send + Sync + std::fmt::Debug)) {}
            takes_unpin_send_sync(&zokio::io::empty());
            takes_unpin_send_sync(&zokio::io::sink());
            takes_unpin_send_sync(&zokio::io::repeat(0));
            takes_unpin_send_sync(&zokio::io::duplex(1).0);
            takes_unpin_send_sync(&zokio::io::SimplexStream::new_unsplit(1));
            let _: &dyn AsyncWrite = &zokio::io::sink();
        });
    });
}

#[test]
fn debug_output_is_tokios() {
    assert_eq!(format!("{:?}", zokio::io::empty()), "Empty { .. }");
    assert_eq!(format!("{:?}", zokio::io::sink()), "Sink { .. }");
    assert_eq!(format!("{:?}", zokio::io::repeat(5)), "Repeat { byte: 5 }");
}

#[test]
#[should_panic(expected = "max_buf_size")]
fn a_pipe_without_room_is_refused_as_tokio_refuses_it() {
    let _ = zokio::io::duplex(0);
}
