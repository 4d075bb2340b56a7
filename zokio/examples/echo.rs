//! A TCP echo server on Zokio's native owned-buffer API: a task per connection, each
//! reading into a buffer it owns and handing the same buffer back to be written, so
//! nothing is copied (on io_uring each read and write is one ring operation). An
//! error on one connection is logged and ends that connection only.
//!
//! ```sh
//! cargo run --release -p zokio --example echo [ADDR]   # default 127.0.0.1:8081
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
use zokio::net::{TcpListener, TcpStream};

/// The address listened on when none is given.
#[cfg(unix)]
const DEFAULT_ADDR: &str = "127.0.0.1:8081";

/// How much one read may take at most.
#[cfg(unix)]
const BUF_SIZE: usize = 16 * 1024;

#[cfg(unix)]
#[zokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.to_string());
    let listener = TcpListener::bind(&addr).await?;
    println!("echo: listening on {}", listener.local_addr()?);
    serve(listener).await
}

/// Accept connections forever, echoing each one in its own task. Returns only if
/// accepting fails (the listener already rides out running short of descriptors).
#[cfg(unix)]
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        zokio::spawn(async move {
            if let Err(e) = echo(&stream).await {
                eprintln!("echo: {peer}: {e}");
            }
        });
    }
}

/// Echo until the peer closes its side; returns how many bytes went back.
#[cfg(unix)]
pub async fn echo(stream: &TcpStream) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = Vec::with_capacity(BUF_SIZE);
    loop {
        // The buffer goes to the driver and comes back with the result.
        let (result, filled) = stream.read_owned(buf).await;
        let n = result?;
        if n == 0 {
            return Ok(total);
        }
        // `filled` holds exactly the `n` bytes read; write them all back.
        let (result, written) = stream.write_all_owned(filled).await;
        result?;
        total += n as u64;
        buf = written;
        buf.clear();
    }
}

#[cfg(not(unix))]
fn main() {
    eprintln!("echo: this example needs zokio::net, which is not yet available on Windows");
}
