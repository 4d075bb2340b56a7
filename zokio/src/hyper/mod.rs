//! hyper 1.x on Zokio (feature `hyper`): what hyper asks of a runtime.
//!
//! - [`ZokioIo`] adapts Zokio's sockets (tokio's `AsyncRead`/`AsyncWrite`) to hyper's
//!   `rt::Read`/`rt::Write`, and hyper's I/O back to tokio's traits;
//! - [`ZokioExecutor`] spawns hyper's background tasks (needed for HTTP/2);
//! - [`ZokioTimer`] gives hyper Zokio's timers (header-read timeouts, keep-alive
//!   and HTTP/2 pings).
//!
//! This module holds no logic of its own: one file per adapter, each only forwarding
//! to Zokio. `hyper_util::rt::{TokioIo, TokioExecutor, TokioTimer}` are no substitute
//! for the last two (they need tokio's own runtime), but `TokioIo` works on Zokio's
//! sockets too.
//!
//! An HTTP/1.1 server (see `zokio/examples/http.rs` for a complete one, with HTTP/2):
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper::{server::conn::http1, service::service_fn, Request, Response};
//! use zokio::hyper::{ZokioIo, ZokioTimer};
//!
//! async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, World!"))))
//! }
//!
//! #[zokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = zokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         zokio::spawn(async move {
//!             let served = http1::Builder::new()
//!                 .timer(ZokioTimer::new())
//!                 .serve_connection(ZokioIo::new(stream), service_fn(hello))
//!                 .await;
//!             if let Err(err) = served {
//!                 eprintln!("connection error: {err}");
//!             }
//!         });
//!     }
//! }
//! ```

mod executor;
mod io;
mod timer;

pub use executor::ZokioExecutor;
pub use io::ZokioIo;
pub use timer::{ZokioSleep, ZokioTimer};
