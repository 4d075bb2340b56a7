//! With the `futures-io` feature, Zokio's streams implement the `futures` crate's
//! `AsyncRead`/`AsyncWrite`, so code written against `futures::io` runs on them:
//! `read`, `read_exact`, `read_to_end`, `write_all`, `flush`, `close`, `futures::io::copy`
//! and `AsyncBufReadExt::lines`, on `TcpStream`, its halves and `UnixStream`, on every
//! flavour. Run with `cargo test -p zokio --features futures-io --test net_futures_io`.
// Some imports serve only the Unix-socket tests, which Windows does not build.
#![cfg_attr(windows, allow(unused_imports))]
// Tests sockets (`net`), which Windows does not have yet.
#![cfg(feature = "futures-io")]

mod common;
mod net_common;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use futures::StreamExt;
use net_common::{assert_bytes_eq, payload, within};
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

/// Generic over futures' traits only.
async fn futures_style_exchange<R, W>(mut reader: R, mut writer: W, msg: &[u8]) -> Vec<u8>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (w, r) = zokio::join!(
        async {
            writer.write_all(msg).await?;
            writer.flush().await?;
            writer.close().await
        },
        async {
            let half = msg.len() / 2;
            let mut got = vec![0u8; half];
            reader.read_exact(&mut got).await?;
            reader.read_to_end(&mut got).await?;
            let mut buf = [0u8; 4];
            assert_eq!(reader.read(&mut buf).await?, 0, "read after end of stream");
            Ok::<_, std::io::Error>(got)
        }
    );
    w.unwrap();
    r.unwrap()
}

#[test]
fn futures_io_on_tcp_streams_and_halves() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let msg = payload(1, 1 << 20);
            let (client, server) = tcp_pair().await;
            let got = within("streams", futures_style_exchange(server, client, &msg)).await;
            assert_bytes_eq("TcpStream", &got, &msg);

            let (mut a, b) = tcp_pair().await;
            // With `futures::io::AsyncReadExt` in scope, `a.split()` would be futures'
            // by-value `split`; name Zokio's borrowed halves explicitly.
            let (rd, wr) = TcpStream::split(&mut a);
            let (b_rd, b_wr) = b.into_split();
            let (x, y) = within("halves", async {
                zokio::join!(
                    futures_style_exchange(b_rd, wr, &msg),
                    futures_style_exchange(rd, b_wr, &msg[..777])
                )
            })
            .await;
            assert_bytes_eq("WriteHalf -> OwnedReadHalf", &x, &msg);
            assert_bytes_eq("OwnedWriteHalf -> ReadHalf", &y, &msg[..777]);

            // futures' own `split` works on a Zokio stream too.
            let (a, b) = tcp_pair().await;
            let (a_rd, a_wr) = AsyncReadExt::split(a);
            let (b_rd, b_wr) = AsyncReadExt::split(b);
            let (x, y) = within("futures split", async {
                zokio::join!(
                    futures_style_exchange(b_rd, a_wr, &msg[..4096]),
                    futures_style_exchange(a_rd, b_wr, &msg[..3])
                )
            })
            .await;
            assert_bytes_eq("futures split", &x, &msg[..4096]);
            assert_bytes_eq("futures split back", &y, &msg[..3]);
        });
    });
}

#[test]
#[cfg(unix)]
fn futures_io_on_unix_streams_copy_and_lines() {
    each_flavor(|_, rt| {
        rt.block_on(async {
            let msg = payload(2, 200_000);
            let (a, b) = UnixStream::pair().unwrap();
            let got = within("unix", futures_style_exchange(a, b, &msg)).await;
            assert_bytes_eq("UnixStream", &got, &msg);

            // futures::io::copy from one connection into another.
            let (mut src_w, src_r) = UnixStream::pair().unwrap();
            let (dst_w, mut dst_r) = tcp_pair().await;
            let copier = zokio::spawn(async move {
                let mut dst_w = dst_w;
                let n = futures::io::copy(src_r, &mut dst_w).await.unwrap();
                dst_w.close().await.unwrap();
                n
            });
            let (_, got) = within("copy", async {
                zokio::join!(
                    async {
                        AsyncWriteExt::write_all(&mut src_w, &msg).await.unwrap();
                        AsyncWriteExt::close(&mut src_w).await.unwrap();
                    },
                    async {
                        let mut got = Vec::new();
                        AsyncReadExt::read_to_end(&mut dst_r, &mut got)
                            .await
                            .unwrap();
                        got
                    }
                )
            })
            .await;
            assert_eq!(within("copier", copier).await.unwrap(), msg.len() as u64);
            assert_bytes_eq("futures::io::copy", &got, &msg);

            // Buffered lines.
            let (mut w, r) = UnixStream::pair().unwrap();
            AsyncWriteExt::write_all(&mut w, b"one\ntwo\nthree\n")
                .await
                .unwrap();
            AsyncWriteExt::close(&mut w).await.unwrap();
            let lines: Vec<String> = BufReader::new(r)
                .lines()
                .map(|l| l.unwrap())
                .collect()
                .await;
            assert_eq!(lines, ["one", "two", "three"]);
        });
    });
}
