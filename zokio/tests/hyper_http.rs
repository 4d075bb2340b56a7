//! hyper 1.x over Zokio's sockets, on every runtime flavor: the example server
//! (`examples/http.rs`) driven by hyper clients over HTTP/1.1 keep-alive and HTTP/2,
//! `ZokioTimer` at work in hyper's timeouts and pings, and curl against the example.

// Tests sockets (`net`), which Windows does not have yet.
#![cfg(unix)]

#[path = "../examples/http.rs"]
#[allow(dead_code)]
mod http_example;

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1 as client1, http2 as client2};
use hyper::server::conn::{http1 as server1, http2 as server2};
use hyper::service::service_fn;
use hyper::{header, Request, StatusCode};
use zokio::hyper::{ZokioExecutor, ZokioIo, ZokioTimer};
use zokio::net::{TcpListener, TcpStream};

use http_example::BODY;

/// The example server on an ephemeral port, running until the runtime ends.
async fn start_example() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    zokio::spawn(async move { http_example::serve(listener).await.unwrap() });
    addr
}

/// An HTTP/1.1 client connection to `addr`, its connection task spawned.
async fn connect_http1(addr: SocketAddr) -> client1::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = client1::handshake(ZokioIo::new(stream)).await.unwrap();
    zokio::spawn(async move {
        // Ends with the runtime; a failure shows in the requests.
        let _ = conn.await;
    });
    sender
}

/// An HTTP/2 client connection to `addr`, its connection task spawned.
async fn connect_http2(addr: SocketAddr) -> client2::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = client2::Builder::new(ZokioExecutor::new())
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

/// `GET /` over HTTP/1.1 on `sender`'s connection: status and body.
async fn get1(
    sender: &mut client1::SendRequest<Empty<Bytes>>,
    addr: SocketAddr,
) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    let request = Request::get("/")
        .header(header::HOST, addr.to_string())
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// `GET /` over HTTP/2 on `sender`'s connection: status and body.
async fn get2(
    mut sender: client2::SendRequest<Empty<Bytes>>,
    addr: SocketAddr,
) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    let request = Request::get(format!("http://{addr}/"))
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

fn assert_hello((status, body): (StatusCode, Bytes)) {
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, BODY.as_bytes());
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    common::on_every_flavor(|| async {
        let addr = start_example().await;
        let mut sender = connect_http1(addr).await;
        for _ in 0..10 {
            assert_hello(get1(&mut sender, addr).await);
        }
        assert!(
            !sender.is_closed(),
            "the server closed a keep-alive connection"
        );
    });
}

#[test]
fn concurrent_connections_and_a_bad_client_do_not_stop_the_server() {
    common::on_every_flavor(|| async {
        let addr = start_example().await;

        // A client speaking garbage gets an error response or a close, nothing more.
        let garbage = TcpStream::connect(addr).await.unwrap();
        garbage
            .write_all_owned(b"NOT HTTP AT ALL\r\n\r\n".to_vec())
            .await
            .0
            .unwrap();
        loop {
            let (read, _) = garbage.read_owned(Vec::with_capacity(1024)).await;
            if read.map_or(true, |n| n == 0) {
                break;
            }
        }
        // One that connects and leaves at once.
        drop(TcpStream::connect(addr).await.unwrap());

        let clients: Vec<_> = (0..8)
            .map(|_| {
                zokio::spawn(async move {
                    let mut sender = connect_http1(addr).await;
                    for _ in 0..5 {
                        assert_hello(get1(&mut sender, addr).await);
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

#[test]
fn example_serves_http2_with_prior_knowledge() {
    common::on_every_flavor(|| async {
        let addr = start_example().await;
        let sender = connect_http2(addr).await;
        // Concurrent streams on the one connection.
        let streams: Vec<_> = (0..10)
            .map(|_| zokio::spawn(get2(sender.clone(), addr)))
            .collect();
        for stream in streams {
            assert_hello(stream.await.unwrap());
        }
        // And HTTP/1.1 still works beside it.
        let mut sender1 = connect_http1(addr).await;
        assert_hello(get1(&mut sender1, addr).await);
    });
}

/// HTTP/2 server and client on `ZokioExecutor` and `ZokioTimer`, with keep-alive pings
/// every 20 ms: each ping resets the same sleep (to the ping timeout, then to the next
/// interval), so a reset that did not move the deadline would time the connection out.
#[test]
fn http2_keep_alive_pings_reset_the_timer() {
    common::on_every_flavor(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        zokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                zokio::spawn(async move {
                    // Ends with the runtime; a ping timeout shows in `is_closed`.
                    let _ = server2::Builder::new(ZokioExecutor::new())
                        .timer(ZokioTimer::new())
                        .keep_alive_interval(Duration::from_millis(20))
                        // Long, so that a slow build's late pong is no timeout; a
                        // reset that did not move the deadline fires at once anyway.
                        .keep_alive_timeout(common::HANG_GUARD)
                        .serve_connection(ZokioIo::new(stream), service_fn(http_example::hello))
                        .await;
                });
            }
        });

        let sender = connect_http2(addr).await;
        assert_hello(get2(sender.clone(), addr).await);
        // Long enough for several pings, each a reset.
        zokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            !sender.is_closed(),
            "keep-alive pings closed the connection"
        );
        let streams: Vec<_> = (0..5)
            .map(|_| zokio::spawn(get2(sender.clone(), addr)))
            .collect();
        for stream in streams {
            assert_hello(stream.await.unwrap());
        }
    });
}

/// hyper's HTTP/1 header-read timeout, on `ZokioTimer`, closes a connection that sends
/// nothing, or only part of a request head.
#[test]
fn http1_header_read_timeout_closes_idle_connections() {
    const LIMIT: Duration = Duration::from_millis(100);
    common::on_every_flavor(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (ended, mut endings) = zokio::sync::mpsc::unbounded_channel();
        zokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let ended = ended.clone();
                zokio::spawn(async move {
                    let served = server1::Builder::new()
                        .timer(ZokioTimer::new())
                        .header_read_timeout(LIMIT)
                        .serve_connection(ZokioIo::new(stream), service_fn(http_example::hello))
                        .await;
                    let _ = ended.send(served);
                });
            }
        });

        for sent in [&b""[..], b"GET / HTTP/1.1\r\nHost: x\r\n"] {
            let start = Instant::now();
            let stream = TcpStream::connect(addr).await.unwrap();
            if !sent.is_empty() {
                stream.write_all_owned(sent.to_vec()).await.0.unwrap();
            }
            // hyper may answer 408 before closing; what matters is the close.
            loop {
                let (read, _) = stream.read_owned(Vec::with_capacity(1024)).await;
                if read.map_or(true, |n| n == 0) {
                    break;
                }
            }
            // No upper bound but the scenario's hang guard: a timer that never
            // fires leaves the connection open for good.
            let waited = start.elapsed();
            assert!(
                waited >= LIMIT,
                "closed after {waited:?}, before the timeout"
            );
            match endings.recv().await.unwrap() {
                Err(err) => assert!(err.is_timeout(), "ended by {err:?}, not the timeout"),
                Ok(()) => panic!("the connection ended without the header-read timeout"),
            }
        }

        // A client that does send its request in time is served.
        let mut sender = connect_http1(addr).await;
        assert_hello(get1(&mut sender, addr).await);
    });
}

/// Whether `curl` can be run here; a loud note when not.
fn curl_version() -> Option<String> {
    match std::process::Command::new("curl").arg("--version").output() {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => {
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! SKIPPED: curl is not installed: the curl test of the http example did not run\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
    }
}

/// Run curl with `args` off the runtime's threads; its standard output.
async fn curl(args: Vec<String>) -> String {
    let shown = args.join(" ");
    let out = zokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "60"])
            .args(&args)
            .output()
            .expect("running curl")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "curl {shown} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn curl_talks_to_the_example() {
    let Some(version) = curl_version() else {
        return;
    };
    let has_http2 = version
        .lines()
        .any(|line| line.starts_with("Features:") && line.contains("HTTP2"));
    common::on_every_flavor(move || async move {
        let addr = start_example().await;
        let url = format!("http://{addr}/");
        // Two transfers, one connection: `num_connects` is 0 for the reused one.
        let out = curl(vec![
            "--http1.1".into(),
            "--write-out".into(),
            "|%{http_code}|%{num_connects}\\n".into(),
            url.clone(),
            url.clone(),
        ])
        .await;
        assert_eq!(out, format!("{BODY}|200|1\n{BODY}|200|0\n"), "curl output");
        if has_http2 {
            let out = curl(vec![
                "--http2-prior-knowledge".into(),
                "--write-out".into(),
                "|%{http_code}|%{http_version}\\n".into(),
                url,
            ])
            .await;
            assert_eq!(
                out,
                format!("{BODY}|200|2\n"),
                "curl --http2-prior-knowledge output"
            );
        }
    });
}
