//! An axum application on Zokio, with no tokio runtime in the process.
//!
//! axum's `Router` is a tower `Service`; nothing in it needs tokio's runtime except
//! `axum::serve`, which this example does not use (axum is built without its `tokio`
//! feature). Instead Zokio accepts the connections (`zokio::net::TcpListener`), and
//! hyper-util's connection builder (`hyper_util::server::conn::auto`) serves each one
//! as HTTP/1.1 or, for clients that open with its preface, HTTP/2, on Zokio's executor
//! and timers (`zokio::hyper::{ZokioExecutor, ZokioTimer}`) and Zokio's socket
//! (`ZokioIo`).
//!
//! Routes:
//!
//! | request              | response                                               |
//! |----------------------|--------------------------------------------------------|
//! | `GET /`              | `200`, text: [`GREETING`]                              |
//! | `GET /json`          | `200`, JSON: the crate, the runtime and the protocol   |
//! | `POST /echo`         | `200`, the request's body and content type, unchanged  |
//! | `GET /users/{id}`    | `200`, JSON with the id; `400` when it is not a number |
//! | `GET /runtime`       | `200`, JSON: is a Zokio runtime there, is a tokio one  |
//! | anything else        | `404`, text: [`NOT_FOUND`]; `405` for a known path     |
//!
//! ```sh
//! cargo run -p zokio --features hyper --example axum [ADDR]   # default 127.0.0.1:3000
//! curl http://127.0.0.1:3000/runtime
//! curl -d 'hello' http://127.0.0.1:3000/echo
//! ```
//!
//! `router` and `serve` are the reusable parts: `zokio/tests/example_axum.rs` includes
//! this file and drives them on an ephemeral port with hyper clients.
//!
//! Never add a tokio runtime here (`#[tokio::main]`, `axum::serve`, hyper-util's
//! `TokioExecutor` or `TokioTimer`): the point, and what the test checks, is that none
//! is needed.

use std::io;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode, Version};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use zokio::hyper::{ZokioExecutor, ZokioIo, ZokioTimer};
use zokio::net::{TcpListener, TcpStream};

/// The body of `GET /`.
pub const GREETING: &str = "Hello from axum on Zokio!";

/// The body of every response to a path no route has.
pub const NOT_FOUND: &str = "no such page";

/// How long a connection may take to send a request head once it has started one
/// (hyper's own default, made explicit: a timer must be given for it to apply).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The application: every route of the table in this file's doc.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| async { GREETING }))
        .route("/json", get(about))
        .route("/echo", post(echo))
        .route("/users/{id}", get(user))
        .route("/runtime", get(runtime))
        .fallback(|| async { (StatusCode::NOT_FOUND, NOT_FOUND) })
}

/// `GET /json`: a fixed document, plus the HTTP version the request came over.
async fn about(version: Version) -> Json<Value> {
    Json(json!({
        "framework": "axum",
        "runtime": "zokio",
        "http_version": format!("{version:?}"),
    }))
}

/// `POST /echo`: the body back, with the request's content type when it had one.
async fn echo(headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(header::HeaderValue::from_static("application/octet-stream"));
    ([(header::CONTENT_TYPE, content_type)], body)
}

/// `GET /users/{id}`: the id, parsed; axum answers `400` itself when it is not a `u64`.
async fn user(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "id": id, "name": format!("user {id}") }))
}

/// `GET /runtime`: what the handler runs on, asked from inside it.
async fn runtime() -> Json<Value> {
    Json(json!({
        "zokio_runtime": zokio::runtime::Handle::try_current().is_ok(),
        "tokio_runtime": tokio::runtime::Handle::try_current().is_ok(),
    }))
}

/// Accept connections on `listener` forever and serve `app` on each, one task per
/// connection. Neither a failed connection nor a failed accept ends the server: both
/// are printed and serving goes on.
pub async fn serve(listener: TcpListener, app: Router) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let app = app.clone();
                zokio::spawn(async move {
                    if let Err(err) = serve_connection(stream, app).await {
                        eprintln!("axum: connection from {peer}: {err}");
                    }
                });
            }
            Err(err) => {
                eprintln!("axum: accept failed: {err}");
                // Aborted handshakes are one client's problem; anything else (out of
                // descriptors) may persist, so do not spin on it.
                if err.kind() != io::ErrorKind::ConnectionAborted {
                    zokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Serve one connection: hyper-util reads its first bytes and picks HTTP/1.1 or HTTP/2.
async fn serve_connection(
    stream: TcpStream,
    app: Router,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    stream.set_nodelay(true)?;
    let mut builder = auto::Builder::new(ZokioExecutor::new());
    builder
        .http1()
        .timer(ZokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(ZokioTimer::new());
    builder
        .serve_connection(ZokioIo::new(stream), TowerToHyperService::new(app))
        .await
}

#[zokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, router()).await
}
