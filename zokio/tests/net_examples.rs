//! The networking examples, run in-process and driven by clients: `echo` serves
//! several clients at once, byte for byte, and a client that resets does not disturb
//! the others; `chat` sends each client's lines to every other client (never back to
//! the sender), and a client leaving does not disturb the rest. With whichever driver
//! `ZOKIO_DRIVER` picks.

// Tests sockets (`net`), which Windows does not have yet.
#![cfg(unix)]

mod common;
mod net_common;

#[allow(dead_code)]
#[path = "../examples/echo.rs"]
mod echo;

#[allow(dead_code)]
#[path = "../examples/chat.rs"]
mod chat;

use std::net::SocketAddr;

use common::{current_thread, multi_thread, run_with_timeout, BODY_GUARD};
use net_common::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use zokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use zokio::net::{TcpListener, TcpStream};

#[test]
fn echo_example_serves_clients_at_once_and_survives_a_reset() {
    run_with_timeout(BODY_GUARD, || {
        let rt = multi_thread(2);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = zokio::spawn(echo::serve(listener));

            // A client that sends a lot, resets as soon as the echo starts, with most
            // of it unread: an error on the server for that connection only.
            let bad = zokio::spawn(async move {
                let bad = TcpStream::connect(addr).await.unwrap();
                bad.set_zero_linger().unwrap();
                zokio::select! {
                    biased;
                    (r, _) = bad.read_exact_owned(vec![0u8; 1]) => r.unwrap(),
                    (r, _) = bad.write_all_owned(payload(99, 8 << 20)) => {
                        r.unwrap();
                        bad.read_exact_owned(vec![0u8; 1]).await.0.unwrap();
                    }
                }
            });
            within("the echo starts", bad).await.unwrap();

            let mut clients = Vec::new();
            for c in 0..8u64 {
                clients.push(zokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for (i, &size) in SIZES.iter().enumerate() {
                        let msg = payload(c * 10 + i as u64, size);
                        if c % 2 == 0 {
                            native_round_trip_exact::<_, Vec<u8>>(&stream, &msg).await;
                        } else {
                            tokio_round_trip(&mut stream, &msg).await;
                        }
                    }
                    stream.shutdown().await.unwrap();
                    let mut buf = [0u8; 1];
                    assert_eq!(within("end", stream.read(&mut buf)).await.unwrap(), 0);
                }));
            }
            for (c, client) in clients.into_iter().enumerate() {
                within(&format!("echo client {c}"), client)
                    .await
                    .unwrap_or_else(|e| panic!("echo client {c}: {e}"));
            }
            assert!(!server.is_finished(), "serve returned: {server:?}");
            // Still serving.
            let stream = TcpStream::connect(addr).await.unwrap();
            native_round_trip_exact::<_, bytes::BytesMut>(&stream, b"still serving").await;
            server.abort();
        });
    });
}

/// A chat client: its address, its lines in, its writer out.
struct Client {
    addr: SocketAddr,
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connect and wait for the welcome line, after which the server relays to us.
    async fn join(server: SocketAddr) -> Client {
        let stream = TcpStream::connect(server).await.unwrap();
        let addr = stream.local_addr().unwrap();
        let (rd, writer) = stream.into_split();
        let mut client = Client {
            addr,
            lines: BufReader::new(rd).lines(),
            writer,
        };
        assert_eq!(client.next().await, format!("* welcome {addr}"));
        client
    }

    async fn say(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }

    async fn next(&mut self) -> String {
        within("a chat line", self.lines.next_line())
            .await
            .unwrap()
            .expect("the server closed the connection")
    }
}

async fn chat_scenario() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server_addr = listener.local_addr().unwrap();
    let server = zokio::spawn(chat::serve(listener));

    let mut a = Client::join(server_addr).await;
    let mut b = Client::join(server_addr).await;
    let mut c = Client::join(server_addr).await;

    // A line from `a` reaches `b` and `c`, prefixed with `a`'s address.
    a.say("hello from a").await;
    let expected = format!("{}: hello from a", a.addr);
    assert_eq!(b.next().await, expected);
    assert_eq!(c.next().await, expected);
    // `a` did not get its own line: the next thing it reads is `b`'s.
    b.say("hi from b").await;
    assert_eq!(a.next().await, format!("{}: hi from b", b.addr));
    assert_eq!(c.next().await, format!("{}: hi from b", b.addr));
    c.say("c here").await;
    assert_eq!(a.next().await, format!("{}: c here", c.addr));
    assert_eq!(b.next().await, format!("{}: c here", c.addr));

    // `c` leaves, in the middle of a line; the others carry on.
    let c_addr = c.addr;
    c.writer.write_all(b"half a li").await.unwrap();
    drop(c);
    // The unfinished line is relayed as is when `c`'s stream ends.
    assert_eq!(a.next().await, format!("{c_addr}: half a li"));
    assert_eq!(b.next().await, format!("{c_addr}: half a li"));
    a.say("after c left").await;
    assert_eq!(b.next().await, format!("{}: after c left", a.addr));
    b.say("bye").await;
    assert_eq!(a.next().await, format!("{}: bye", b.addr));

    // And a newcomer joins the conversation from then on.
    let mut d = Client::join(server_addr).await;
    d.say("d joins").await;
    assert_eq!(a.next().await, format!("{}: d joins", d.addr));
    assert_eq!(b.next().await, format!("{}: d joins", d.addr));
    a.say("welcome d").await;
    assert_eq!(d.next().await, format!("{}: welcome d", a.addr));
    assert_eq!(b.next().await, format!("{}: welcome d", a.addr));
    assert!(!server.is_finished());
    server.abort();
}

#[test]
fn chat_example_relays_lines_to_the_others_only() {
    run_with_timeout(BODY_GUARD, || {
        multi_thread(2).block_on(chat_scenario());
        current_thread().block_on(chat_scenario());
    });
}
