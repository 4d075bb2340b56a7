//! The workloads, each written once and generic over [`BenchRuntime`], so
//! every runtime runs the very same code and only the scheduler differs.
//!
//! Sizes follow tokio's `benches/rt_multi_threaded.rs`. Tasks here may only
//! synchronise through neutral primitives (`futures::channel`, std atomics
//! and mutexes, the [`YieldNow`] below); they must never touch a runtime's
//! own sync types, timers or yield, or that runtime's extras get measured.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::runtimes::{BenchRuntime, Spawner};

const SPAWN_MANY: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1_000;
const PING_PONGS: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;
const IMBALANCE_TASKS: usize = 1_000;
const IMBALANCE_CHUNKS: usize = 20;
const IMBALANCE_CHUNK: Duration = Duration::from_micros(50);

/// Tasks parked by the `idle_task_bytes` probe.
pub const IDLE_TASKS: usize = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    SpawnManyLocal,
    SpawnManyRemote,
    YieldMany,
    PingPong,
    ChainedSpawn,
    Imbalance,
    IdleTaskBytes,
}

/// What a workload's samples count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Nanos,
    Bytes,
}

impl Workload {
    pub const ALL: [Workload; 7] = [
        Workload::SpawnManyLocal,
        Workload::SpawnManyRemote,
        Workload::YieldMany,
        Workload::PingPong,
        Workload::ChainedSpawn,
        Workload::Imbalance,
        Workload::IdleTaskBytes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnManyLocal => "spawn_many_local",
            Workload::SpawnManyRemote => "spawn_many_remote",
            Workload::YieldMany => "yield_many",
            Workload::PingPong => "ping_pong",
            Workload::ChainedSpawn => "chained_spawn",
            Workload::Imbalance => "imbalance",
            Workload::IdleTaskBytes => "idle_task_bytes",
        }
    }

    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    pub fn unit(self) -> Unit {
        match self {
            Workload::IdleTaskBytes => Unit::Bytes,
            _ => Unit::Nanos,
        }
    }
}

/// Object-safe face of a runtime, so the orchestrator can hold all three in
/// one list; every method just calls the generic workload code.
pub trait Contender {
    fn name(&self) -> &'static str;

    /// One timed iteration of a timed workload.
    fn run_timed(&self, w: Workload) -> Duration;

    /// Parks `n` tasks that never finish, spawned from where `from` says,
    /// and returns once all have been polled once.
    fn park_idle_tasks(&self, n: usize, from: SpawnFrom);
}

/// Where the idle-task probe spawns its tasks from. It matters to Zokio's
/// pooled strategies: a task spawned on a runtime thread takes its cell from
/// that thread's pool, one spawned from any other thread from the global
/// allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnFrom {
    /// The bench thread, outside the runtime (`Runtime::spawn`).
    Outside,
    /// A task on the runtime, through the in-task spawn path.
    Task,
}

impl SpawnFrom {
    pub fn name(self) -> &'static str {
        match self {
            SpawnFrom::Outside => "outside",
            SpawnFrom::Task => "task",
        }
    }

    pub fn from_name(name: &str) -> Option<SpawnFrom> {
        [SpawnFrom::Outside, SpawnFrom::Task]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

impl<R: BenchRuntime> Contender for R {
    fn name(&self) -> &'static str {
        BenchRuntime::name(self)
    }

    fn run_timed(&self, w: Workload) -> Duration {
        match w {
            Workload::SpawnManyLocal => spawn_many_local(self),
            Workload::SpawnManyRemote => spawn_many_remote(self),
            Workload::YieldMany => yield_many(self),
            Workload::PingPong => ping_pong(self),
            Workload::ChainedSpawn => chained_spawn(self),
            Workload::Imbalance => imbalance(self),
            // Measured in a child process by `rss`, never timed.
            Workload::IdleTaskBytes => Duration::ZERO,
        }
    }

    fn park_idle_tasks(&self, n: usize, from: SpawnFrom) {
        park_idle_tasks(self, n, from);
    }
}

/// Returns `Pending` exactly once after waking its own waker: the plainest
/// possible yield, identical for every runtime (each runtime's own
/// `yield_now` has its own tricks, such as tokio deferring the wake).
pub struct YieldNow {
    yielded: bool,
}

pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A count of outstanding tasks; whichever task finishes last fires the
/// oneshot. Waiting on JoinHandles instead would measure each runtime's
/// join machinery, which differs and is not what these workloads are about.
pub(crate) struct Countdown {
    left: AtomicUsize,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Countdown {
    pub(crate) fn new(n: usize) -> (Arc<Countdown>, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let cd = Countdown {
            left: AtomicUsize::new(n),
            done: Mutex::new(Some(tx)),
        };
        (Arc::new(cd), rx)
    }

    pub(crate) fn tick(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            let tx = self.done.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
        }
    }
}

/// Ticks a countdown however its task ends, even by a panic, so a failing
/// task cannot leave the bench thread waiting; the task reports the failure
/// some other way.
pub(crate) struct TickOnDrop(pub(crate) Arc<Countdown>);

impl Drop for TickOnDrop {
    fn drop(&mut self) {
        self.0.tick();
    }
}

pub(crate) async fn wait(done: oneshot::Receiver<()>) {
    // A dropped sender means a task panicked; better to report it loudly
    // than to time a broken run.
    done.await
        .expect("workload task dropped its completion signal");
}

/// Runs `fut` as a task on the runtime and blocks the bench thread until
/// it finishes, so spawns inside `fut` take the runtime's in-task path.
fn in_task<R, F>(rt: &R, fut: F)
where
    R: BenchRuntime,
    F: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    rt.spawn(async move {
        fut.await;
        let _ = tx.send(());
    });
    rt.block_on(wait(rx));
}

fn spawn_many_local<R: BenchRuntime>(rt: &R) -> Duration {
    let sp = rt.spawner();
    let start = Instant::now();
    in_task(rt, async move {
        let (cd, done) = Countdown::new(SPAWN_MANY);
        for _ in 0..SPAWN_MANY {
            let cd = cd.clone();
            sp.spawn(async move { cd.tick() });
        }
        wait(done).await;
    });
    start.elapsed()
}

fn spawn_many_remote<R: BenchRuntime>(rt: &R) -> Duration {
    let start = Instant::now();
    let (cd, done) = Countdown::new(SPAWN_MANY);
    for _ in 0..SPAWN_MANY {
        let cd = cd.clone();
        rt.spawn(async move { cd.tick() });
    }
    rt.block_on(wait(done));
    start.elapsed()
}

fn yield_many<R: BenchRuntime>(rt: &R) -> Duration {
    let start = Instant::now();
    let (cd, done) = Countdown::new(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        let cd = cd.clone();
        rt.spawn(async move {
            for _ in 0..YIELDS_PER_TASK {
                yield_now().await;
            }
            cd.tick();
        });
    }
    rt.block_on(wait(done));
    start.elapsed()
}

fn ping_pong<R: BenchRuntime>(rt: &R) -> Duration {
    let sp = rt.spawner();
    let start = Instant::now();
    in_task(rt, async move {
        let (cd, done) = Countdown::new(PING_PONGS);
        for _ in 0..PING_PONGS {
            let cd = cd.clone();
            let inner = sp.clone();
            sp.spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                inner.spawn(async move {
                    if ping_rx.await.is_ok() {
                        let _ = pong_tx.send(());
                    }
                });
                let _ = ping_tx.send(());
                let _ = pong_rx.await;
                cd.tick();
            });
        }
        wait(done).await;
    });
    start.elapsed()
}

/// Each link spawns the next; the last one fires `done`.
fn chain<S: Spawner>(sp: S, left: usize, done: oneshot::Sender<()>) {
    if left == 0 {
        let _ = done.send(());
        return;
    }
    let next = sp.clone();
    sp.spawn(async move { chain(next, left - 1, done) });
}

fn chained_spawn<R: BenchRuntime>(rt: &R) -> Duration {
    let sp = rt.spawner();
    let start = Instant::now();
    in_task(rt, async move {
        let (tx, rx) = oneshot::channel();
        chain(sp, CHAIN_DEPTH, tx);
        wait(rx).await;
    });
    start.elapsed()
}

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// All tasks are spawned from one task, so they start out queued on one
/// worker; only work stealing (or a shared queue) gets the others busy.
fn imbalance<R: BenchRuntime>(rt: &R) -> Duration {
    let sp = rt.spawner();
    let start = Instant::now();
    in_task(rt, async move {
        let (cd, done) = Countdown::new(IMBALANCE_TASKS);
        for _ in 0..IMBALANCE_TASKS {
            let cd = cd.clone();
            sp.spawn(async move {
                for chunk in 0..IMBALANCE_CHUNKS {
                    if chunk > 0 {
                        yield_now().await;
                    }
                    spin(IMBALANCE_CHUNK);
                }
                cd.tick();
            });
        }
        wait(done).await;
    });
    start.elapsed()
}

/// Counts first polls of the idle tasks. A static rather than a captured `Arc`, so
/// that the parked future is one byte on every runtime and the figure is the
/// runtime's own cost per task, not the benchmark's.
static IDLE_POLLED: AtomicUsize = AtomicUsize::new(0);

fn park_idle_tasks<R: BenchRuntime>(rt: &R, n: usize, from: SpawnFrom) {
    IDLE_POLLED.store(0, Ordering::SeqCst);
    match from {
        SpawnFrom::Outside => {
            for _ in 0..n {
                rt.spawn(idle_task());
            }
        }
        SpawnFrom::Task => {
            let sp = rt.spawner();
            in_task(rt, async move {
                for _ in 0..n {
                    sp.spawn(idle_task());
                }
            });
        }
    }
    // Waiting until every task has been polled once counts whatever a
    // runtime allocates on first poll, not just at spawn.
    while IDLE_POLLED.load(Ordering::Acquire) < n {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One idle task: counted on its first poll, then pending for ever. The same
/// future (one byte of state) whichever way it is spawned.
async fn idle_task() {
    IDLE_POLLED.fetch_add(1, Ordering::Relaxed);
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_origins_round_trip() {
        for f in [SpawnFrom::Outside, SpawnFrom::Task] {
            assert_eq!(SpawnFrom::from_name(f.name()), Some(f));
        }
        assert_eq!(SpawnFrom::from_name("nowhere"), None);
    }
}
