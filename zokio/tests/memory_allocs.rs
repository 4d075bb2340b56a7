//! Under `MemoryStrategy::Pooled`, a spawn and an I/O operation make no call to the
//! global allocator once the pools are warm; under `System` they do (which shows the
//! counter sees them). A counting global allocator counts every call in the process,
//! on every thread, while a window is open.
//!
//! The windows measure steady state: the same work runs first to warm the pools, the
//! run queues and the drivers' tables, and the buffers the test itself uses are made
//! before the window opens.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{flavors_with_memory, run_with_timeout, BODY_GUARD};
#[cfg(unix)]
use zokio::net::{TcpListener, TcpStream, UdpSocket};
use zokio::runtime::{MemoryStrategy, Runtime};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicUsize = AtomicUsize::new(0);
/// One window at a time: the tests of this file run in parallel threads.
static WINDOW: Mutex<()> = Mutex::new(());

// SAFETY: every call forwards to the system allocator with the caller's arguments;
// the counter only adds an atomic increment.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn count() {
    if COUNTING.load(Ordering::Relaxed) {
        CALLS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Global-allocator calls made anywhere in the process while `f` runs.
async fn calls_during<F: std::future::Future<Output = ()>>(f: F) -> usize {
    CALLS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f.await;
    COUNTING.store(false, Ordering::SeqCst);
    CALLS.load(Ordering::SeqCst)
}

const SPAWNS: usize = 2_000;
const BATCH: usize = 200;

/// Spawns `SPAWNS` tasks in batches of `BATCH` (kept in a vector made beforehand) and
/// waits for each batch.
async fn spawn_round(handles: &mut Vec<zokio::task::JoinHandle<u64>>) {
    for _ in 0..SPAWNS / BATCH {
        for i in 0..BATCH as u64 {
            handles.push(zokio::spawn(async move {
                zokio::task::yield_now().await;
                i * 2
            }));
        }
        for handle in handles.drain(..) {
            assert!(handle.await.unwrap() < 2 * BATCH as u64);
        }
    }
}

/// Warm-up rounds of spawns, then one measured; the global-allocator calls of that.
async fn spawn_rounds(handles: &mut Vec<zokio::task::JoinHandle<u64>>) -> usize {
    for _ in 0..3 {
        spawn_round(handles).await;
    }
    calls_during(spawn_round(handles)).await
}

/// The count of a window run inside a task (so, on a worker thread of every flavour).
fn spawn_calls_in_task(rt: &Runtime) -> usize {
    rt.block_on(async {
        zokio::spawn(async {
            let mut handles = Vec::with_capacity(BATCH);
            spawn_rounds(&mut handles).await
        })
        .await
        .unwrap()
    })
}

#[test]
fn pooled_spawns_make_no_global_allocation_in_steady_state() {
    run_with_timeout(BODY_GUARD, || {
        let _window = WINDOW.lock().unwrap_or_else(|e| e.into_inner());
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            let calls = spawn_calls_in_task(&rt);
            assert_eq!(
                calls, 0,
                "{name}: {SPAWNS} spawns under Pooled made {calls} global-allocator calls"
            );
        }
    });
}

#[test]
fn pooled_spawns_from_block_on_make_no_global_allocation_in_steady_state() {
    run_with_timeout(BODY_GUARD, || {
        let _window = WINDOW.lock().unwrap_or_else(|e| e.into_inner());
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            let calls = rt.block_on(async {
                let mut handles = Vec::with_capacity(BATCH);
                spawn_rounds(&mut handles).await
            });
            assert_eq!(
                calls, 0,
                "{name}: {SPAWNS} spawns from block_on under Pooled made {calls} calls"
            );
        }
    });
}

#[test]
fn system_spawns_do_allocate() {
    run_with_timeout(BODY_GUARD, || {
        let _window = WINDOW.lock().unwrap_or_else(|e| e.into_inner());
        for (name, rt) in flavors_with_memory(MemoryStrategy::System) {
            let calls = spawn_calls_in_task(&rt);
            assert!(
                calls >= SPAWNS,
                "{name}: {SPAWNS} spawns under System made only {calls} global-allocator \
                 calls; the counter is not seeing them"
            );
        }
    });
}

/// A TCP connection and a connected UDP pair, with owned buffers made before any
/// window and handed back by every operation.
#[cfg(unix)]
struct Peers {
    client: TcpStream,
    server: TcpStream,
    udp_a: UdpSocket,
    udp_b: UdpSocket,
    out: Vec<u8>,
    back: Vec<u8>,
    datagram: Vec<u8>,
}

#[cfg(unix)]
impl Peers {
    async fn new() -> Peers {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let (client, (server, _)) = (client.unwrap(), accepted.unwrap());
        let udp_a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let udp_b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        udp_a.connect(udp_b.local_addr().unwrap()).await.unwrap();
        udp_b.connect(udp_a.local_addr().unwrap()).await.unwrap();
        Peers {
            client,
            server,
            udp_a,
            udp_b,
            out: vec![7u8; 64],
            back: vec![0u8; 64],
            datagram: vec![0u8; 64],
        }
    }

    /// `count` exchanges: a TCP round trip (four operations) and a datagram (two).
    async fn exchange(&mut self, count: usize) {
        for _ in 0..count {
            let (res, buf) = self
                .client
                .write_all_owned(std::mem::take(&mut self.out))
                .await;
            res.unwrap();
            self.out = buf;
            let (res, buf) = self
                .server
                .read_exact_owned(std::mem::take(&mut self.back))
                .await;
            res.unwrap();
            self.back = buf;
            let (res, buf) = self
                .server
                .write_all_owned(std::mem::take(&mut self.back))
                .await;
            res.unwrap();
            self.back = buf;
            let (res, buf) = self
                .client
                .read_exact_owned(std::mem::take(&mut self.out))
                .await;
            res.unwrap();
            self.out = buf;
            assert_eq!(self.out[0], 7);
            assert_eq!(self.udp_a.send(&self.out).await.unwrap(), 64);
            assert_eq!(self.udp_b.recv(&mut self.datagram).await.unwrap(), 64);
        }
    }
}

#[cfg(unix)]
const EXCHANGES: usize = 500;

/// Two rounds of exchanges; the global-allocator calls of the second.
#[cfg(unix)]
async fn io_rounds() -> usize {
    let mut peers = Peers::new().await;
    peers.exchange(EXCHANGES).await;
    calls_during(peers.exchange(EXCHANGES)).await
}

#[cfg(unix)]
#[test]
fn pooled_io_operations_make_no_global_allocation_in_steady_state() {
    run_with_timeout(BODY_GUARD, || {
        let _window = WINDOW.lock().unwrap_or_else(|e| e.into_inner());
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            let calls = rt.block_on(async { zokio::spawn(io_rounds()).await.unwrap() });
            assert_eq!(
                calls,
                0,
                "{name} on {:?}: {EXCHANGES} exchanges (6 operations each) under Pooled \
                 made {calls} global-allocator calls",
                rt.handle().driver_kind()
            );
        }
    });
}
