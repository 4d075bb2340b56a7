//! The echo servers, each written the way its runtime's own examples write
//! one: tokio, and smol (async-io's `Async<TcpStream>`), with
//! `AsyncReadExt::read` and `write_all` through a 4 KiB buffer, monoio and
//! Zokio with owned buffers (one 4 KiB `Vec` per
//! connection, lent to each read and write and handed back; the very same
//! server runs on Zokio's poll driver as `zokio-poll`). Each accept
//! loop sets `TCP_NODELAY` on what it accepts, as the client does.
//!
//! Workload code only: the cases and the table are in `net`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use zokio::runtime::Driver;

use crate::net::POLL;
use crate::net_servers::{self, Server};
use crate::{alloc_switch, runtimes};

const BUF: usize = 4096;

/// The echo server of `runtime` (`zokio`, `zokio-poll`: the same server on
/// Zokio's poll driver, `tokio`, `smol` or `monoio`) on
/// `workers` workers (threads, for smol and monoio), or the runtime-less `floor` (one thread,
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
        POLL => net_servers::zokio_with_driver(workers, Driver::Poll, zokio_accept),
        "tokio" => net_servers::tokio(workers, tokio_accept),
        "monoio" => net_servers::monoio(workers, monoio_accept),
        "smol" => net_servers::smol(workers, smol_accept),
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

// ---------------------------------------------------------------- smol

async fn smol_accept(
    listener: async_io::Async<std::net::TcpListener>,
    ex: std::sync::Weak<async_executor::Executor<'static>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.get_ref().set_nodelay(true);
        // Gone only while the server is being stopped.
        let Some(ex) = ex.upgrade() else {
            return;
        };
        ex.spawn(smol_echo(stream)).detach();
    }
}

async fn smol_echo(mut stream: async_io::Async<std::net::TcpStream>) {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    /// A server echoes, and once stopped it no longer listens: nothing it
    /// started (the listener above all) outlives it.
    fn echoes_then_closes(runtime: &str) {
        let server = start(runtime, 2).unwrap();
        let addr = server.addr();
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(b"ping").unwrap();
        let mut back = [0u8; 4];
        conn.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ping");
        drop(conn);
        server.stop().unwrap();
        assert!(TcpStream::connect(addr).is_err(), "{runtime} still listens");
    }

    #[test]
    fn zokio_echo_server_on_the_poll_driver() {
        let server = start(POLL, 2).unwrap();
        assert_eq!(server.driver, "poll");
        drop(server);
        echoes_then_closes(POLL);
    }

    #[test]
    fn smol_echo_server() {
        echoes_then_closes("smol");
    }

    #[test]
    fn zokio_echo_server_on_a_pooled_strategy() {
        echoes_then_closes("zokio-pooled");
    }

    #[test]
    fn a_mimalloc_server_needs_a_mimalloc_process() {
        // The test process runs under the system allocator.
        let err = start("zokio-system+mimalloc", 1).err().unwrap();
        assert!(err.to_string().contains("needs mimalloc"), "{err}");
    }
}
