//! `examples/axum.rs` driven by hyper clients on Zokio, on every runtime flavor: each
//! route's status, headers and body, HTTP/1.1 keep-alive and HTTP/2 streams, many
//! connections at once, and no tokio runtime anywhere in the process.
//!
//! Needs the `hyper` feature, which `cargo test --workspace` turns on (zokio-bench
//! asks for it); `cargo test -p zokio` alone skips this file, and
//! `cargo test -p zokio --features hyper --test example_axum` runs it.

mod common;

#[path = "../examples/axum.rs"]
#[allow(dead_code)]
mod axum_example;

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use zokio::hyper::{ZokioExecutor, ZokioIo, ZokioTimer};
use zokio::net::{TcpListener, TcpStream};

use axum_example::{GREETING, NOT_FOUND};

/// Run `scenario` on every flavor ([`common::on_every_flavor`]), then check that no
/// tokio runtime appeared.
fn on_every_flavor<F, Fut>(scenario: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    common::on_every_flavor(scenario);
    assert_no_tokio_runtime();
}

/// No tokio runtime is entered on this thread, and (on Linux, where threads' names
/// can be read) none has started a thread in the process.
fn assert_no_tokio_runtime() {
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "a tokio runtime is entered on the test's thread"
    );
    #[cfg(target_os = "linux")]
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let name = std::fs::read_to_string(task.unwrap().path().join("comm")).unwrap_or_default();
        assert!(
            !name.starts_with("tokio-runtime"),
            "a tokio runtime's thread is running: {name:?}"
        );
    }
}

/// The example's server on an ephemeral port, running until the runtime ends.
async fn start_example() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    zokio::spawn(async move {
        axum_example::serve(listener, axum_example::router())
            .await
            .unwrap()
    });
    addr
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    content_type: Option<String>,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    fn json(&self) -> Value {
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/json"),
            "content type of a JSON reply"
        );
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

fn request(
    method: Method,
    path: &str,
    addr: SocketAddr,
    body: &'static [u8],
) -> Request<Full<Bytes>> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, addr.to_string());
    if !body.is_empty() {
        request = request.header(header::CONTENT_TYPE, "text/x-test");
    }
    request.body(Full::new(Bytes::from_static(body))).unwrap()
}

async fn read_reply(response: hyper::Response<hyper::body::Incoming>) -> Reply {
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        content_type,
        body,
    }
}

/// An HTTP/1.1 connection to `addr`, its connection task spawned.
async fn connect_http1(addr: SocketAddr) -> http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = http1::handshake(ZokioIo::new(stream)).await.unwrap();
    zokio::spawn(async move {
        // Ends with the runtime; a failure shows in the requests.
        let _ = conn.await;
    });
    sender
}

/// An HTTP/2 connection to `addr` (prior knowledge), its connection task spawned.
async fn connect_http2(addr: SocketAddr) -> http2::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = http2::Builder::new(ZokioExecutor::new())
        .timer(ZokioTimer::new())
        .handshake(ZokioIo::new(stream))
        .await
        .unwrap();
    zokio::spawn(async move {
        // Ends with the runtime; a failure shows in the requests.
        let _ = conn.await;
    });
    sender
}

/// One request on an HTTP/1.1 connection.
async fn send1(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Reply {
    sender.ready().await.unwrap();
    read_reply(sender.send_request(request).await.unwrap()).await
}

/// One request on an HTTP/2 connection (its own stream).
async fn send2(
    mut sender: http2::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Reply {
    sender.ready().await.unwrap();
    let (mut parts, body) = request.into_parts();
    // HTTP/2 wants the authority in the URI, not a Host header.
    let host = parts.headers.remove(header::HOST).unwrap();
    parts.uri = format!("http://{}{}", host.to_str().unwrap(), parts.uri)
        .parse()
        .unwrap();
    read_reply(
        sender
            .send_request(Request::from_parts(parts, body))
            .await
            .unwrap(),
    )
    .await
}

/// What every route answers, checked on one keep-alive connection.
#[test]
fn every_route_answers_over_http1() {
    on_every_flavor(|| async {
        let addr = start_example().await;
        let mut sender = connect_http1(addr).await;

        let reply = send1(&mut sender, request(Method::GET, "/", addr, b"")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.text(), GREETING);
        assert!(
            reply
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("text/plain")),
            "content type of /: {:?}",
            reply.content_type
        );

        let reply = send1(&mut sender, request(Method::GET, "/json", addr, b"")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.json(),
            json!({"framework": "axum", "runtime": "zokio", "http_version": "HTTP/1.1"})
        );

        let reply = send1(
            &mut sender,
            request(Method::POST, "/echo", addr, b"echo me, \xff\x00 bytes too"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type.as_deref(), Some("text/x-test"));
        assert_eq!(&reply.body[..], b"echo me, \xff\x00 bytes too");

        let reply = send1(&mut sender, request(Method::GET, "/users/42", addr, b"")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json(), json!({"id": 42, "name": "user 42"}));

        let reply = send1(
            &mut sender,
            request(Method::GET, "/users/nobody", addr, b""),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());

        let reply = send1(
            &mut sender,
            request(Method::GET, "/no/such/page", addr, b""),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.text(), NOT_FOUND);

        let reply = send1(&mut sender, request(Method::DELETE, "/echo", addr, b"")).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);

        let reply = send1(&mut sender, request(Method::GET, "/runtime", addr, b"")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.json(),
            json!({"zokio_runtime": true, "tokio_runtime": false}),
            "the handler runs on Zokio, with no tokio runtime"
        );

        assert!(
            !sender.is_closed(),
            "the server closed a keep-alive connection"
        );
    });
}

/// A large body goes through `/echo` whole, in both directions.
#[test]
fn echo_returns_a_large_body_whole() {
    on_every_flavor(|| async {
        let addr = start_example().await;
        let mut sender = connect_http1(addr).await;
        let body: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let request = Request::post("/echo")
            .header(header::HOST, addr.to_string())
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        let reply = send1(&mut sender, request).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.content_type.as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(reply.body.len(), body.len());
        assert!(reply.body == body, "the echoed body differs");
    });
}

/// Sixteen connections at once, each with its own requests, and HTTP/2 streams on
/// one connection beside them: every answer is the right one.
#[test]
fn many_connections_and_http2_streams_at_once() {
    on_every_flavor(|| async {
        let addr = start_example().await;
        let clients: Vec<_> = (0..16u64)
            .map(|client| {
                zokio::spawn(async move {
                    let mut sender = connect_http1(addr).await;
                    for round in 0..5u64 {
                        let id = client * 100 + round;
                        let path = format!("/users/{id}");
                        let request = Request::get(path)
                            .header(header::HOST, addr.to_string())
                            .body(Full::new(Bytes::new()))
                            .unwrap();
                        let reply = send1(&mut sender, request).await;
                        assert_eq!(reply.status, StatusCode::OK);
                        assert_eq!(reply.json()["id"], json!(id));
                    }
                })
            })
            .collect();

        let sender = connect_http2(addr).await;
        let streams: Vec<_> = (0..20)
            .map(|i| {
                let sender = sender.clone();
                zokio::spawn(async move {
                    if i % 2 == 0 {
                        send2(sender, request(Method::GET, "/json", addr, b"")).await
                    } else {
                        send2(sender, request(Method::POST, "/echo", addr, b"over h2")).await
                    }
                })
            })
            .collect();
        for (i, stream) in streams.into_iter().enumerate() {
            let reply = stream.await.unwrap();
            assert_eq!(reply.status, StatusCode::OK);
            if i % 2 == 0 {
                assert_eq!(reply.json()["http_version"], json!("HTTP/2.0"));
            } else {
                assert_eq!(&reply.body[..], b"over h2");
            }
        }
        let reply = send2(sender, request(Method::GET, "/runtime", addr, b"")).await;
        assert_eq!(
            reply.json(),
            json!({"zokio_runtime": true, "tokio_runtime": false})
        );

        for client in clients {
            client.await.unwrap();
        }
    });
}

/// A client that sends garbage gets an error or a close, and the server goes on.
#[test]
fn a_bad_client_does_not_stop_the_server() {
    on_every_flavor(|| async {
        let addr = start_example().await;
        let garbage = TcpStream::connect(addr).await.unwrap();
        garbage
            .write_all_owned(b"NOT HTTP AT ALL\r\n\r\n".to_vec())
            .await
            .0
            .unwrap();
        let mut answer = Vec::new();
        loop {
            let (read, buf) = garbage.read_owned(Vec::with_capacity(1024)).await;
            match read {
                Ok(0) | Err(_) => break,
                Ok(_) => answer.extend_from_slice(&buf),
            }
        }
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1.1 400"),
            "answer to garbage: {:?}",
            String::from_utf8_lossy(&answer)
        );
        drop(TcpStream::connect(addr).await.unwrap());

        let mut sender = connect_http1(addr).await;
        let reply = send1(&mut sender, request(Method::GET, "/", addr, b"")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.text(), GREETING);
    });
}
