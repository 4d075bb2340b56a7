//! Code written for tokio compiles and runs unchanged on Zokio's sockets:
//! `use tokio::io::{AsyncReadExt, AsyncWriteExt}` and then `read`, `read_exact`,
//! `read_to_end`, `write_all`, `flush`, `shutdown` on `TcpStream`, its four halves
//! and `UnixStream`; generic functions bounded by tokio's traits; `tokio::io::copy`,
//! `copy_bidirectional`, `tokio::io::split`, `BufReader`/`BufWriter`; and a
//! `tokio_util::codec::Framed` with `LinesCodec`; and `read`/`write` stay cancel-safe
//! as tokio promises. On every flavour, with whichever driver `ZOKIO_DRIVER` picks.

// Tests sockets (`net`), which Windows does not have yet.

mod common;
mod net_common;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::{SinkExt, StreamExt};
use net_common::*;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
};
use tokio_util::codec::{Framed, LinesCodec};
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

/// What a tokio program writes: generic over tokio's traits, nothing Zokio-specific.
async fn tokio_style_exchange<R, W>(mut reader: R, mut writer: W, msg: &[u8]) -> Vec<u8>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (w, r) = zokio::join!(
        async {
            writer.write_all(msg).await?;
            writer.write_u32(0xC0FFEE).await?;
            writer.flush().await?;
            writer.shutdown().await
        },
        async {
            let mut got = vec![0u8; msg.len()];
            reader.read_exact(&mut got).await?;
            let tag = reader.read_u32().await?;
            assert_eq!(tag, 0xC0FFEE);
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest).await?;
            assert!(rest.is_empty(), "bytes after the tag");
            let mut buf = [0u8; 4];
            assert_eq!(reader.read(&mut buf).await?, 0, "read after end of stream");
            Ok::<_, std::io::Error>(got)
        }
    );
    w.unwrap();
    r.unwrap()
}

#[test]
fn tokio_traits_on_tcp_stream_and_its_four_halves() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let msg = payload(1, 256 * 1024);
            // Whole streams, one writing and one reading.
            let (client, server) = tcp_pair().await;
            let got = within("streams", tokio_style_exchange(server, client, &msg)).await;
            assert_bytes_eq("TcpStream", &got, &msg);

            // Borrowed halves: each stream's write half talks to the other's read half.
            let (mut a, mut b) = tcp_pair().await;
            let (a_rd, a_wr) = a.split();
            let (b_rd, b_wr) = b.split();
            let (x, y) = within("borrowed halves", async {
                zokio::join!(
                    tokio_style_exchange(b_rd, a_wr, &msg),
                    tokio_style_exchange(a_rd, b_wr, &msg[..1000])
                )
            })
            .await;
            assert_bytes_eq("ReadHalf/WriteHalf", &x, &msg);
            assert_bytes_eq("ReadHalf/WriteHalf back", &y, &msg[..1000]);

            // Owned halves, moved into tasks.
            let (a, b) = tcp_pair().await;
            let (a_rd, a_wr) = a.into_split();
            let (b_rd, b_wr) = b.into_split();
            let m1 = msg.clone();
            let m2 = msg[..5000].to_vec();
            let t1 = zokio::spawn(async move { tokio_style_exchange(b_rd, a_wr, &m1).await });
            let t2 = zokio::spawn(async move { tokio_style_exchange(a_rd, b_wr, &m2).await });
            assert_bytes_eq(
                "OwnedReadHalf/OwnedWriteHalf",
                &within("t1", t1).await.unwrap(),
                &msg,
            );
            assert_bytes_eq("owned back", &within("t2", t2).await.unwrap(), &msg[..5000]);
        });
    });
}

#[test]
#[cfg(unix)]
fn tokio_traits_on_unix_stream() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let msg = payload(2, 300_000);
            let (a, b) = UnixStream::pair().unwrap();
            let got = within("unix", tokio_style_exchange(a, b, &msg)).await;
            assert_bytes_eq("UnixStream", &got, &msg);
            let (mut a, b) = UnixStream::pair().unwrap();
            let (rd, wr) = a.split();
            let (b_rd, b_wr) = b.into_split();
            let (x, y) = within("unix halves", async {
                zokio::join!(
                    tokio_style_exchange(b_rd, wr, &msg),
                    tokio_style_exchange(rd, b_wr, b"hi")
                )
            })
            .await;
            assert_bytes_eq("unix halves", &x, &msg);
            assert_eq!(y, b"hi");
        });
    });
}

#[test]
fn tokio_io_copy_split_and_buffered_io() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let msg = payload(3, 1 << 20);

            // An echo server made of `tokio::io::copy` from a stream's read half to
            // its write half.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = zokio::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let (mut rd, mut wr) = stream.split();
                let n = tokio::io::copy(&mut rd, &mut wr).await.unwrap();
                wr.shutdown().await.unwrap();
                n
            });
            let client = TcpStream::connect(addr).await.unwrap();
            // `tokio::io::split` of the client, one half per task.
            let (mut rd, mut wr) = tokio::io::split(client);
            let to_send = msg.clone();
            let writer = zokio::spawn(async move {
                wr.write_all(&to_send).await.unwrap();
                wr.shutdown().await.unwrap();
            });
            let mut got = Vec::new();
            within("copy echo", rd.read_to_end(&mut got)).await.unwrap();
            within("writer", writer).await.unwrap();
            assert_eq!(within("server", server).await.unwrap(), msg.len() as u64);
            assert_bytes_eq("tokio::io::copy echo", &got, &msg);

            // copy_bidirectional between a TCP stream and a Unix stream (a proxy).
            let (mut tcp_a, mut tcp_b) = tcp_pair().await;
            #[cfg(unix)]
            let (mut unix_a, mut unix_b) = UnixStream::pair().unwrap();
            // No Unix sockets on Windows: the proxy joins two TCP streams there.
            #[cfg(windows)]
            let (mut unix_a, mut unix_b) = tcp_pair().await;
            let proxy = zokio::spawn(async move {
                tokio::io::copy_bidirectional(&mut tcp_b, &mut unix_a)
                    .await
                    .unwrap()
            });
            let (x, y) = within("proxy", async {
                zokio::join!(
                    async {
                        tcp_a.write_all(&msg[..100_000]).await.unwrap();
                        tcp_a.shutdown().await.unwrap();
                        let mut back = Vec::new();
                        tcp_a.read_to_end(&mut back).await.unwrap();
                        back
                    },
                    async {
                        let mut got = Vec::new();
                        unix_b.read_to_end(&mut got).await.unwrap();
                        unix_b.write_all(b"pong").await.unwrap();
                        unix_b.shutdown().await.unwrap();
                        got
                    }
                )
            })
            .await;
            assert_bytes_eq("proxied", &y, &msg[..100_000]);
            assert_eq!(x, b"pong");
            assert_eq!(within("proxy end", proxy).await.unwrap(), (100_000, 4));

            // BufReader lines and BufWriter.
            let (client, server) = tcp_pair().await;
            let mut writer = BufWriter::new(client);
            for i in 0..1000 {
                writer
                    .write_all(format!("line {i}\n").as_bytes())
                    .await
                    .unwrap();
            }
            writer.flush().await.unwrap();
            writer.shutdown().await.unwrap();
            let mut lines = BufReader::new(server).lines();
            let mut n = 0;
            while let Some(line) = within("line", lines.next_line()).await.unwrap() {
                assert_eq!(line, format!("line {n}"));
                n += 1;
            }
            assert_eq!(n, 1000);
        });
    });
}

#[test]
fn framed_lines_codec_over_a_zokio_tcp_stream() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // A server that answers each line upper-cased, until the client ends.
            let server = zokio::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut framed = Framed::new(stream, LinesCodec::new());
                let mut count = 0;
                while let Some(line) = framed.next().await {
                    let line = line.unwrap();
                    framed.send(line.to_uppercase()).await.unwrap();
                    count += 1;
                }
                count
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut framed = Framed::new(stream, LinesCodec::new());
            for i in 0..200 {
                let line = format!("hello {i} {}", "x".repeat(i * 37));
                framed.send(line.as_str()).await.unwrap();
                let answer = within("answer", framed.next()).await.unwrap().unwrap();
                assert_eq!(answer, line.to_uppercase());
            }
            // Many lines sent at once, answered in order.
            for i in 0..100 {
                framed.feed(format!("batch {i}")).await.unwrap();
            }
            SinkExt::<String>::flush(&mut framed).await.unwrap();
            for i in 0..100 {
                let answer = within("batch", framed.next()).await.unwrap().unwrap();
                assert_eq!(answer, format!("BATCH {i}"));
            }
            let mut stream = framed.into_inner();
            stream.shutdown().await.unwrap();
            assert_eq!(within("server", server).await.unwrap(), 300);
        });
    });
}

/// Poll `fut` once; `None` (after dropping it) if it was not ready.
async fn poll_once<F: std::future::Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    match futures::poll!(fut.as_mut()) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

/// tokio's `read` and `write` on a stream are cancel-safe: a `read` dropped before it
/// finished took no bytes, and a `write` dropped before it finished wrote none. Both
/// ends here drop every call that is not ready at its first poll, and the bytes must
/// still arrive exactly once, in order.
async fn dropped_reads_and_writes_lose_nothing<S>(mut reader: S, mut writer: S, seed: u64)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let msg = payload(seed, 2 << 20);
    let to_send = msg.clone();
    let sender = zokio::spawn(async move {
        let (mut off, mut chunk) = (0, 1);
        let mut dropped = 0u64;
        while off < to_send.len() {
            let end = (off + chunk).min(to_send.len());
            match poll_once(writer.write(&to_send[off..end])).await {
                Some(n) => off += n.unwrap(),
                None => dropped += 1,
            }
            chunk = chunk * 3 % 200_003 + 1;
            zokio::task::yield_now().await;
        }
        writer.shutdown().await.unwrap();
        dropped
    });
    let mut got = Vec::with_capacity(msg.len());
    let mut buf = vec![0u8; 100_000];
    let (mut room, mut dropped) = (1, 0u64);
    loop {
        match poll_once(reader.read(&mut buf[..room])).await {
            Some(n) => {
                let n = n.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            None => dropped += 1,
        }
        room = room * 7 % 99_991 + 1;
        zokio::task::yield_now().await;
    }
    let writes_dropped = within("sender", sender).await.unwrap();
    assert_bytes_eq("bytes through dropped reads and writes", &got, &msg);
    println!("{dropped} reads and {writes_dropped} writes dropped after one poll");
}

#[test]
fn tokio_read_and_write_are_cancel_safe() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let (a, b) = tcp_pair().await;
            within("tcp", dropped_reads_and_writes_lose_nothing(a, b, 11)).await;
            #[cfg(unix)]
            {
                let (a, b) = UnixStream::pair().unwrap();
                within("unix", dropped_reads_and_writes_lose_nothing(a, b, 12)).await;
            }
        });
    });
}
