//! Starting and stopping the servers of the network groups, each in a
//! runtime of its own that lives for one run only.
//!
//! The shapes: tokio's and Zokio's multi-thread runtimes (Zokio's on its
//! default driver, or forced onto one), and smol's
//! executor on N threads, with one accept loop whose connections are spawned
//! onto the workers; monoio's
//! thread per core, one runtime per thread, each with its own
//! `SO_REUSEPORT` listener on the shared port. Every listener is made here
//! the same way (loopback, port chosen by the kernel, backlog 1024,
//! non-blocking), so the servers differ only in their runtime and the
//! connection code each group hands in. The runtime-less floor server
//! (`net_floor`) is started there and wrapped in a [`Server`] the same way.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

const BACKLOG: i32 = 1024;

/// How long a server may take to come up or to go down.
const START_LIMIT: Duration = Duration::from_secs(10);
pub const STOP_LIMIT: Duration = Duration::from_secs(10);

/// A loopback listener: `port` 0 lets the kernel choose; `reuse_port` joins
/// (or starts) a `SO_REUSEPORT` group on that port.
pub fn listener(port: u16, reuse_port: bool) -> io::Result<TcpListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if reuse_port {
        s.set_reuse_port(true)?;
    }
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// Reads a runtime's I/O counters (Zokio's only: the others keep none).
pub type Counters = Box<dyn Fn() -> zokio::runtime::IoCounters>;

/// A server running in its own runtime; stopped (its runtime shut down and
/// every thread joined) by [`Server::stop`] or on drop.
pub struct Server {
    addr: SocketAddr,
    /// The I/O driver the server's runtime ended up with, in words.
    pub driver: String,
    /// The runtime's I/O counters, where it keeps any; dropped before the
    /// runtime is stopped, so it never keeps it alive.
    pub counters: Option<Counters>,
    stop: Option<Box<dyn FnOnce() -> io::Result<()>>>,
}

impl Server {
    /// A server at `addr` that `stop` shuts down and joins.
    pub fn new(
        addr: SocketAddr,
        driver: String,
        stop: impl FnOnce() -> io::Result<()> + 'static,
    ) -> Server {
        Server {
            addr,
            driver,
            counters: None,
            stop: Some(Box::new(stop)),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stop(mut self) -> io::Result<()> {
        self.counters = None;
        self.stop.take().map_or(Ok(()), |f| f())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.counters = None;
        if let Some(f) = self.stop.take() {
            let _ = f();
        }
    }
}

/// Waits for the runtime's first task to take its listener over.
pub fn started(rx: mpsc::Receiver<io::Result<()>>, who: &str) -> io::Result<()> {
    rx.recv_timeout(START_LIMIT)
        .map_err(|_| io::Error::other(format!("{who} did not start within {START_LIMIT:?}")))?
}

/// tokio's multi-thread runtime with `workers` workers and its drivers on;
/// `serve` gets the listener and runs as a task until the runtime is dropped.
pub fn tokio<F, Fut>(workers: usize, serve: F) -> io::Result<Server>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let std_listener = listener(0, false)?;
    let addr = std_listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("tokio-net")
        .enable_all()
        .build()?;
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move {
        match tokio::net::TcpListener::from_std(std_listener) {
            Ok(l) => {
                let _ = tx.send(Ok(()));
                serve(l).await;
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    });
    started(rx, "the tokio server")?;
    Ok(Server::new(addr, "epoll".into(), move || {
        drop(rt);
        Ok(())
    }))
}

/// Zokio's multi-thread runtime with `workers` workers on its default
/// driver (`ZOKIO_DRIVER` picks another); `serve` runs as a task until the
/// runtime is dropped. The server reads the runtime's I/O counters through a
/// handle it keeps.
pub fn zokio<F, Fut>(workers: usize, serve: F) -> io::Result<Server>
where
    F: FnOnce(zokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    zokio_on(workers, None, None, serve)
}

/// [`zokio`] on the given memory strategy (`None`: `ZOKIO_MEMORY` decides,
/// else the system allocator), for the memory group.
pub fn zokio_with_memory<F, Fut>(
    workers: usize,
    memory: Option<zokio::runtime::MemoryStrategy>,
    serve: F,
) -> io::Result<Server>
where
    F: FnOnce(zokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    zokio_on(workers, None, memory, serve)
}

/// [`zokio`] forced onto one I/O driver, whatever `ZOKIO_DRIVER` says: the
/// echo group's `zokio-poll` contender.
pub fn zokio_with_driver<F, Fut>(
    workers: usize,
    driver: zokio::runtime::Driver,
    serve: F,
) -> io::Result<Server>
where
    F: FnOnce(zokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    zokio_on(workers, Some(driver), None, serve)
}

/// Every Zokio server: `driver` and `memory` left `None` follow the
/// environment, as an application's runtime would.
fn zokio_on<F, Fut>(
    workers: usize,
    driver: Option<zokio::runtime::Driver>,
    memory: Option<zokio::runtime::MemoryStrategy>,
    serve: F,
) -> io::Result<Server>
where
    F: FnOnce(zokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let std_listener = listener(0, false)?;
    let addr = std_listener.local_addr()?;
    let mut builder = zokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(workers).thread_name("zokio-net");
    if let Some(driver) = driver {
        builder.driver(driver);
    }
    if let Some(strategy) = memory {
        builder.memory(strategy);
    }
    let rt = builder.build()?;
    let driver = rt.driver_kind().to_string();
    let (tx, rx) = mpsc::channel();
    drop(rt.spawn(async move {
        match zokio::net::TcpListener::from_std(std_listener) {
            Ok(l) => {
                let _ = tx.send(Ok(()));
                serve(l).await;
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    }));
    started(rx, "the Zokio server")?;
    let handle = rt.handle().clone();
    let mut server = Server::new(addr, driver, move || {
        drop(rt);
        Ok(())
    });
    server.counters = Some(Box::new(move || handle.io_counters()));
    Ok(server)
}

/// smol's way: an `async-executor` run by `workers` threads, each in
/// `async_io::block_on(executor.run(..))` as smol's own global executor runs,
/// so that the threads drive async-io's reactor themselves when idle.
/// `serve` gets the listener and the executor (to spawn connections on; a
/// weak reference, so that no task keeps its own executor alive) and runs as
/// a task until the server is stopped: then the threads are told to return,
/// joined, and the executor dropped with every task left on it (the listener
/// and the connections with them).
pub fn smol<F, Fut>(workers: usize, serve: F) -> io::Result<Server>
where
    F: FnOnce(async_io::Async<TcpListener>, Weak<async_executor::Executor<'static>>) -> Fut
        + Send
        + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let std_listener = listener(0, false)?;
    let addr = std_listener.local_addr()?;
    let ex = Arc::new(async_executor::Executor::new());
    let mut shutdown = Vec::with_capacity(workers);
    let mut threads = Vec::with_capacity(workers);
    for i in 0..workers {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let ex = ex.clone();
        threads.push(
            thread::Builder::new()
                .name(format!("smol-net-{i}"))
                .spawn(move || {
                    async_io::block_on(ex.run(async {
                        let _ = rx.await;
                    }))
                })?,
        );
        shutdown.push(tx);
    }
    let stopper = {
        let ex = ex.clone();
        move || -> io::Result<()> {
            for tx in shutdown {
                let _ = tx.send(());
            }
            let mut panicked = false;
            for t in threads {
                panicked |= t.join().is_err();
            }
            drop(ex);
            if panicked {
                return Err(io::Error::other("a smol server thread panicked"));
            }
            Ok(())
        }
    };
    let (tx, rx) = mpsc::channel();
    let spawner = Arc::downgrade(&ex);
    ex.spawn(async move {
        match async_io::Async::new(std_listener) {
            Ok(l) => {
                let _ = tx.send(Ok(()));
                serve(l, spawner).await;
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    })
    .detach();
    drop(ex);
    if let Err(e) = started(rx, "the smol server") {
        let _ = stopper();
        return Err(e);
    }
    Ok(Server::new(addr, "epoll (async-io)".into(), stopper))
}

/// monoio's thread per core: `workers` threads, each with its own runtime
/// (io_uring, or its legacy epoll driver where a ring cannot be set up) and
/// its own `SO_REUSEPORT` listener on the shared port. `serve` is the accept
/// loop; it must return once `stop` is set and it has accepted one more
/// connection, which is how [`Server::stop`] ends each thread: it sets the
/// flag, then connects until every thread has returned.
pub fn monoio<F, Fut>(workers: usize, serve: F) -> io::Result<Server>
where
    F: Fn(monoio::net::TcpListener, Arc<AtomicBool>) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    // Every listener joins the group before any client connects, so the
    // kernel spreads the connections over all of them.
    let first = listener(0, true)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..workers {
        listeners.push(listener(addr.port(), true)?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<io::Result<&'static str>>();
    let mut threads = Vec::with_capacity(workers);
    for (i, l) in listeners.into_iter().enumerate() {
        let (serve, stop, tx) = (serve.clone(), stop.clone(), tx.clone());
        threads.push(
            thread::Builder::new()
                .name(format!("monoio-net-{i}"))
                .spawn(move || {
                    let rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new().build();
                    let mut rt = match rt {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    let kind = match rt {
                        #[cfg(target_os = "linux")]
                        monoio::FusionRuntime::Uring(_) => "io_uring",
                        monoio::FusionRuntime::Legacy(_) => "legacy (epoll)",
                    };
                    rt.block_on(async move {
                        match monoio::net::TcpListener::from_std(l) {
                            Ok(l) => {
                                let _ = tx.send(Ok(kind));
                                serve(l, stop).await;
                            }
                            Err(e) => {
                                let _ = tx.send(Err(e));
                            }
                        }
                    });
                })?,
        );
    }
    drop(tx);
    let stopper = move || -> io::Result<()> {
        stop.store(true, Ordering::Release);
        let deadline = Instant::now() + STOP_LIMIT;
        while threads.iter().any(|t| !t.is_finished()) {
            if Instant::now() > deadline {
                // Leave them: joining would hang the bench.
                return Err(io::Error::other(format!(
                    "monoio server threads still running {STOP_LIMIT:?} after stop"
                )));
            }
            // Lands on one listener of the group, chosen by the kernel from
            // the connection's ports; repeated until every thread has seen one.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(100));
            thread::sleep(Duration::from_millis(1));
        }
        for t in threads {
            t.join()
                .map_err(|_| io::Error::other("a monoio server thread panicked"))?;
        }
        Ok(())
    };
    let mut kinds: Vec<&'static str> = Vec::with_capacity(workers);
    for _ in 0..workers {
        match rx.recv_timeout(START_LIMIT) {
            Ok(Ok(kind)) => kinds.push(kind),
            Ok(Err(e)) => {
                let _ = stopper();
                return Err(e);
            }
            Err(_) => {
                let _ = stopper();
                return Err(io::Error::other(format!(
                    "the monoio server did not start within {START_LIMIT:?}"
                )));
            }
        }
    }
    kinds.dedup();
    Ok(Server::new(addr, kinds.join("+"), stopper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_port_listeners_share_a_port() {
        let a = listener(0, true).unwrap();
        let port = a.local_addr().unwrap().port();
        let b = listener(port, true).unwrap();
        assert_eq!(b.local_addr().unwrap().port(), port);
        // Without SO_REUSEPORT the port is taken.
        assert!(listener(port, false).is_err());
    }
}
