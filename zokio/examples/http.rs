//! A hyper 1.x hello-world server on Zokio: every request gets `200 Hello, World!`.
//!
//! HTTP/1.1 with keep-alive, and HTTP/2 for clients that open with its preface
//! ("prior knowledge", as `curl --http2-prior-knowledge` does; no TLS, so no ALPN).
//!
//! ```sh
//! cargo run --release -p zokio --features hyper --example http [ADDR]   # default 127.0.0.1:8080
//! curl http://127.0.0.1:8080/
//! ```
//!
//! `serve` is the reusable part: the tests (`zokio/tests/hyper_http.rs`) include this
//! file and run it on an ephemeral port.
//!
//! Not yet available on Windows, which does not have `zokio::net` yet:
//! there `main` only says so.

#[cfg(unix)]
use std::convert::Infallible;
#[cfg(unix)]
use std::io;
#[cfg(unix)]
use std::pin::Pin;
#[cfg(unix)]
use std::task::{Context, Poll};
#[cfg(unix)]
use std::time::Duration;

#[cfg(unix)]
use bytes::Bytes;
#[cfg(unix)]
use http_body_util::Full;
#[cfg(unix)]
use hyper::body::Incoming;
#[cfg(unix)]
use hyper::server::conn::{http1, http2};
#[cfg(unix)]
use hyper::service::service_fn;
#[cfg(unix)]
use hyper::{Request, Response};
#[cfg(unix)]
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
#[cfg(unix)]
use zokio::hyper::{ZokioExecutor, ZokioIo, ZokioTimer};
#[cfg(unix)]
use zokio::net::{TcpListener, TcpStream};

/// What every response carries.
#[cfg(unix)]
pub const BODY: &str = "Hello, World!";

/// The first bytes of every HTTP/2 connection.
#[cfg(unix)]
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How long a new connection may stay silent: hyper's own header-read timeout (30 s
/// by default, with a timer) only starts once the protocol is known.
#[cfg(unix)]
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// The service: `200 Hello, World!` whatever the request.
#[cfg(unix)]
pub async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        BODY.as_bytes(),
    ))))
}

/// Accept connections on `listener` forever, one task each. Neither a failed
/// connection nor a failed accept ends the server: both are printed and serving goes
/// on.
#[cfg(unix)]
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                zokio::spawn(async move {
                    if let Err(err) = serve_connection(stream).await {
                        eprintln!("http: connection from {peer}: {err}");
                    }
                });
            }
            Err(err) => {
                eprintln!("http: accept failed: {err}");
                // Aborted handshakes are one client's problem; anything else may
                // persist, so do not spin on it.
                if err.kind() != io::ErrorKind::ConnectionAborted {
                    zokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Serve one connection as HTTP/2 if it opens with the preface, else HTTP/1.1.
#[cfg(unix)]
async fn serve_connection(
    stream: TcpStream,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    stream.set_nodelay(true)?;
    let first = zokio::time::timeout(FIRST_BYTES_TIMEOUT, first_bytes(&stream)).await??;
    let is_h2 = first.starts_with(H2_PREFACE);
    let io = ZokioIo::new(Rewind {
        first,
        pos: 0,
        stream,
    });
    if is_h2 {
        http2::Builder::new(ZokioExecutor::new())
            .timer(ZokioTimer::new())
            .serve_connection(io, service_fn(hello))
            .await?;
    } else {
        http1::Builder::new()
            .keep_alive(true)
            .timer(ZokioTimer::new())
            .serve_connection(io, service_fn(hello))
            .await?;
    }
    Ok(())
}

/// Read until the bytes either hold the HTTP/2 preface or cannot be its start (for an
/// HTTP/1 client: its first read, usually its whole first request), or end of stream.
#[cfg(unix)]
async fn first_bytes(stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut first = Vec::new();
    while first.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(&first) {
        let (read, buf) = stream.read_owned(Vec::with_capacity(4096)).await;
        if read? == 0 {
            break;
        }
        first.extend_from_slice(&buf);
    }
    Ok(first)
}

/// The stream with the bytes already read put back in front.
#[cfg(unix)]
struct Rewind {
    first: Vec<u8>,
    pos: usize,
    stream: TcpStream,
}

#[cfg(unix)]
impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.first.len() {
            let n = buf.remaining().min(this.first.len() - this.pos);
            buf.put_slice(&this.first[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.first.len() {
                this.first = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

#[cfg(unix)]
impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(unix)]
#[zokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener).await
}

#[cfg(not(unix))]
fn main() {
    eprintln!("http: this example needs zokio::net, which is not yet available on Windows");
}
