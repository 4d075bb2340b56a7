//! A line-based chat server: every line a client sends goes to all the other
//! clients, prefixed with the sender's address (`127.0.0.1:50000: hello`). Each
//! client gets a welcome line first (`* welcome 127.0.0.1:50000`), sent once it is
//! subscribed, so it knows that from then on it sees everything said.
//!
//! One `zokio::sync::broadcast` channel carries the lines; each connection is one
//! task that splits its stream, reads lines with tokio's `BufReader::lines` and
//! writes what others said with `write_all`. A client that leaves, or fails, ends
//! its own task only.
//!
//! ```sh
//! cargo run --release -p zokio --example chat [ADDR]   # default 127.0.0.1:8082
//! nc 127.0.0.1 8082
//! ```
//!
//! `serve` is the reusable part: the tests (`zokio/tests/net_examples.rs`) include
//! this file and run it on an ephemeral port.
//!
//! Not yet available on Windows, which does not have `zokio::net` yet:
//! there `main` only says so.

#[cfg(unix)]
use std::io;
#[cfg(unix)]
use std::net::SocketAddr;

#[cfg(unix)]
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
#[cfg(unix)]
use zokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use zokio::sync::broadcast;

/// The address listened on when none is given.
#[cfg(unix)]
const DEFAULT_ADDR: &str = "127.0.0.1:8082";

/// Lines kept for a client that falls behind before it misses some.
#[cfg(unix)]
const BACKLOG: usize = 1024;

#[cfg(unix)]
#[zokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.to_string());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat: listening on {}", listener.local_addr()?);
    serve(listener).await
}

/// Accept clients forever, each in its own task. Returns only if accepting fails.
#[cfg(unix)]
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let (tx, _) = broadcast::channel::<(SocketAddr, String)>(BACKLOG);
    loop {
        let (stream, peer) = listener.accept().await?;
        // Subscribe before the task starts, so nothing said from now on is missed.
        let rx = tx.subscribe();
        let tx = tx.clone();
        zokio::spawn(async move {
            if let Err(e) = client(stream, peer, tx, rx).await {
                eprintln!("chat: {peer}: {e}");
            }
        });
    }
}

/// Serve one client until it leaves.
#[cfg(unix)]
async fn client(
    stream: TcpStream,
    peer: SocketAddr,
    tx: broadcast::Sender<(SocketAddr, String)>,
    mut rx: broadcast::Receiver<(SocketAddr, String)>,
) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    writer
        .write_all(format!("* welcome {peer}\n").as_bytes())
        .await?;
    loop {
        zokio::select! {
            // Both branches are cancel-safe: a line half read stays in the reader.
            line = lines.next_line() => match line? {
                // Nobody else listening is not an error.
                Some(line) => drop(tx.send((peer, line))),
                None => return Ok(()),
            },
            said = rx.recv() => match said {
                Ok((from, _)) if from == peer => {}
                Ok((from, line)) => writer.write_all(format!("{from}: {line}\n").as_bytes()).await?,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    writer.write_all(format!("* {missed} lines missed\n").as_bytes()).await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}

#[cfg(not(unix))]
fn main() {
    eprintln!("chat: this example needs zokio::net, which is not yet available on Windows");
}
