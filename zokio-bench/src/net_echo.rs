//! The echo servers, each written the way its runtime's own examples write
//! one: tokio with `AsyncReadExt::read` and `write_all` through a 4 KiB
//! buffer, monoio and Zokio with owned buffers (one 4 KiB `Vec` per
//! connection, lent to each read and write and handed back). Each accept
//! loop sets `TCP_NODELAY` on what it accepts, as the client does.
//!
//! Workload code only: the cases and the table are in `net`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::net_servers::{self, Server};
use crate::{alloc_switch, runtimes};

const BUF: usize = 4096;

/// The echo server of `runtime` (`zokio`, `tokio` or `monoio`) on `workers`
/// workers (threads, for monoio), or the runtime-less `floor` (one thread,
/// whatever `workers` says). The memory group's names work too:
/// `zokio-<strategy>`, and `zokio-system+mimalloc` in a process that runs
/// under mimalloc.
pub fn start(runtime: &str, workers: usize) -> io::Result<Server> {
    let (base, allocator) = runtimes::split_allocator(runtime);
    if allocator != alloc_switch::current() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the `{runtime}` server needs {} as the global allocator; this process runs \
                 under {}",
                allocator.name(),
                alloc_switch::current().name()
            ),
        ));
    }
    if let Some(strategy) = runtimes::zokio_strategy(base) {
        return net_servers::zokio_with_memory(workers, Some(strategy), zokio_accept);
    }
    match base {
        "zokio" => net_servers::zokio(workers, zokio_accept),
        "tokio" => net_servers::tokio(workers, tokio_accept),
        "monoio" => net_servers::monoio(workers, monoio_accept),
        "floor" => crate::net_floor::start(crate::net_floor::FloorReply::Echo),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no echo server on `{other}`"),
        )),
    }
}

// ---------------------------------------------------------------- tokio

async fn tokio_accept(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(tokio_echo(stream));
    }
}

async fn tokio_echo(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------- monoio

async fn monoio_accept(listener: monoio::net::TcpListener, stop: Arc<AtomicBool>) {
    loop {
        let accepted = listener.accept().await;
        if stop.load(Ordering::Acquire) {
            return;
        }
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        monoio::spawn(monoio_echo(stream));
    }
}

async fn monoio_echo(mut stream: monoio::net::TcpStream) {
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
    let mut buf = Vec::with_capacity(BUF);
    loop {
        let (res, b) = stream.read(buf).await;
        buf = b;
        match res {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let (res, b) = stream.write_all(buf).await;
        buf = b;
        if res.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------- zokio

async fn zokio_accept(listener: zokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        drop(zokio::spawn(zokio_echo(stream)));
    }
}

async fn zokio_echo(stream: zokio::net::TcpStream) {
    let mut buf = Vec::with_capacity(BUF);
    loop {
        let (res, b) = stream.read_owned(buf).await;
        buf = b;
        match res {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let (res, b) = stream.write_all_owned(buf).await;
        buf = b;
        if res.is_err() {
            return;
        }
    }
}
