//! Tests of the unsafe task system, small enough to run under Miri
//! (`cargo +nightly miri test -p zokio --lib miri_`) and fast in a plain `cargo test`.
//!
//! They drive tasks by hand on a tiny scheduler (a locked `VecDeque` of `Notified`
//! plus an `OwnedTasks`) through every path that touches the task's memory: poll to
//! completion, join, wakers, self-wake, abort, panics in `poll` and in `Drop`,
//! shutdown, the join waker slot, and a few cross-thread races. Each test checks that
//! every output and future is dropped exactly once and, when its runtime is dropped,
//! that every task was freed; Miri adds the checks for use-after-free, double drops,
//! data races and leaks. These tests must never start a real runtime, sleep or depend
//! on timing, and must stay small: Miri runs them thousands of times slower.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::panic;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use futures::task::noop_waker_ref;

use super::{spawn_bound, yield_now, AbortHandle, Header, JoinError, JoinHandle};
use super::{Notified, OwnedTasks, Schedule};

// ----- the test scheduler ---------------------------------------------------------

struct Shared {
    queue: Mutex<VecDeque<Notified>>,
    owned: OwnedTasks,
    yields: AtomicUsize,
    /// Run a scheduled task at once, as if another worker had taken it immediately.
    run_inline: AtomicBool,
    scheduled: AtomicUsize,
}

/// The scheduler hook every test task stores.
#[derive(Clone)]
struct TestScheduler(Arc<Shared>);

impl Schedule for TestScheduler {
    fn schedule(&self, task: Notified) {
        if self.0.run_inline.load(SeqCst) {
            task.run();
        } else {
            self.0.queue.lock().unwrap().push_back(task);
        }
        // Real schedulers touch their hook after handing the task over (an unpark);
        // the hook lives inside the task, so the task must still be alive here.
        self.0.scheduled.fetch_add(1, SeqCst);
    }

    fn yield_now(&self, task: Notified) {
        self.0.yields.fetch_add(1, SeqCst);
        self.schedule(task);
    }

    fn release(&self, task: NonNull<Header>) -> bool {
        self.0.owned.remove(task)
    }
}

impl TestScheduler {
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_bound(
            future,
            self.clone(),
            &self.0.owned,
            None,
            false,
            |notified| self.schedule(notified),
        )
    }

    fn queued(&self) -> usize {
        self.0.queue.lock().unwrap().len()
    }

    fn pop(&self) -> Option<Notified> {
        self.0.queue.lock().unwrap().pop_front()
    }

    /// Run queued tasks until none is left; returns how many runs that took.
    fn run_all(&self) -> usize {
        let mut runs = 0;
        while let Some(task) = self.pop() {
            task.run();
            runs += 1;
            assert!(runs < 100, "a task keeps rescheduling itself");
        }
        runs
    }

    fn yields(&self) -> usize {
        self.0.yields.load(SeqCst)
    }

    fn live_tasks(&self) -> usize {
        self.0.owned.len()
    }

    /// Runtime shutdown: cancel every listed task, then drop every queued wake-up.
    fn shutdown(&self) {
        for task in self.0.owned.close_and_take() {
            task.shutdown();
        }
        loop {
            let queued: Vec<Notified> = self.0.queue.lock().unwrap().drain(..).collect();
            if queued.is_empty() {
                break;
            }
            drop(queued);
        }
    }
}

/// Owns the test scheduler; dropping it shuts down and checks that every task was
/// freed (each task holds a clone of the scheduler). Declare it first in a test so
/// that it is dropped last, after the handles and wakers.
struct Rt(TestScheduler);

impl Rt {
    fn new() -> Rt {
        quiet_test_panics();
        Rt(TestScheduler(Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(1),
            yields: AtomicUsize::new(0),
            run_inline: AtomicBool::new(false),
            scheduled: AtomicUsize::new(0),
        })))
    }

    /// Tasks (or their wakers, handles, queued `Notified`s) still holding the scheduler.
    fn task_refs(&self) -> usize {
        Arc::strong_count(&self.0 .0) - 1
    }
}

impl std::ops::Deref for Rt {
    type Target = TestScheduler;
    fn deref(&self) -> &TestScheduler {
        &self.0
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        self.0.shutdown();
        if !thread::panicking() {
            assert_eq!(self.0.live_tasks(), 0, "tasks left on the owned list");
            assert_eq!(self.task_refs(), 0, "tasks never freed");
        }
    }
}

// ----- helpers --------------------------------------------------------------------

const PANIC_PREFIX: &str = "miri-test:";

/// Keep the expected panics of these tests out of the output; others still print.
fn quiet_test_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !message.is_some_and(|m| m.starts_with(PANIC_PREFIX)) {
                previous(info);
            }
        }));
    });
}

fn panic_message(err: JoinError) -> String {
    assert!(err.is_panic(), "{err:?}");
    let payload = err.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .expect("string payload")
}

/// Counts drops (or wakes) across threads.
#[derive(Clone, Debug, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
    fn spy(&self) -> DropSpy {
        DropSpy(self.clone())
    }
}

/// Bumps its counter when dropped.
#[derive(Debug)]
struct DropSpy(Counter);

impl Drop for DropSpy {
    fn drop(&mut self) {
        self.0 .0.fetch_add(1, SeqCst);
    }
}

/// Panics when dropped (unless already unwinding).
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// Poll once with a no-op waker; the task must have finished.
fn join_now<T>(join: &mut JoinHandle<T>) -> Result<T, JoinError> {
    match poll_join(join, noop_waker_ref()) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("task not finished"),
    }
}

/// A future that stays pending until opened, keeping the waker of its latest poll.
#[derive(Clone, Default)]
struct Gate(Arc<GateInner>);

#[derive(Default)]
struct GateInner {
    open: AtomicBool,
    polls: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let gate = self.clone();
        poll_fn(move |cx| {
            gate.0.polls.fetch_add(1, SeqCst);
            if gate.0.open.load(SeqCst) {
                return Poll::Ready(());
            }
            *gate.0.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    fn open(&self) {
        self.0.open.store(true, SeqCst);
    }

    fn polls(&self) -> usize {
        self.0.polls.load(SeqCst)
    }

    fn take_waker(&self) -> Waker {
        self.0.waker.lock().unwrap().take().expect("polled once")
    }
}

/// Waits for `gate`, then returns `value`; `spy` lives in the future until it is dropped.
fn gated<T: Send + 'static>(
    gate: &Gate,
    spy: DropSpy,
    value: T,
) -> impl Future<Output = T> + Send + 'static {
    let wait = gate.wait();
    async move {
        let _spy = spy;
        wait.await;
        value
    }
}

// ----- completion and join --------------------------------------------------------

#[test]
fn miri_poll_to_completion_and_join() {
    let rt = Rt::new();
    let mut join = rt.spawn(async { String::from("done") });
    assert_eq!(rt.queued(), 1);
    assert!(!join.is_finished());
    assert!(poll_join(&mut join, noop_waker_ref()).is_pending());
    assert_eq!(rt.run_all(), 1);
    assert!(join.is_finished());
    assert_eq!(join_now(&mut join).unwrap(), "done");
    assert_eq!(rt.live_tasks(), 0);
}

#[test]
fn miri_join_handle_dropped_before_completion() {
    let rt = Rt::new();
    let (future_drops, output_drops) = (Counter::default(), Counter::default());
    let spy = future_drops.spy();
    let output = output_drops.spy();
    drop(rt.spawn(async move {
        let _spy = spy;
        output
    }));
    rt.run_all();
    // Nobody will read the output: the completing thread drops it, once.
    assert_eq!(output_drops.get(), 1);
    assert_eq!(future_drops.get(), 1);
    assert_eq!(rt.task_refs(), 0);
}

#[test]
fn miri_join_handle_dropped_after_completion() {
    let rt = Rt::new();
    let output_drops = Counter::default();
    let output = output_drops.spy();
    let join = rt.spawn(async move { output });
    rt.run_all();
    assert_eq!(output_drops.get(), 0, "the output waits for its JoinHandle");
    drop(join);
    assert_eq!(output_drops.get(), 1);
    assert_eq!(rt.task_refs(), 0);
}

#[test]
fn miri_output_taken_then_handle_dropped() {
    let rt = Rt::new();
    let output_drops = Counter::default();
    let output = output_drops.spy();
    let mut join = rt.spawn(async move { output });
    rt.run_all();
    let output = join_now(&mut join).unwrap();
    drop(join);
    assert_eq!(
        output_drops.get(),
        0,
        "the handle must not drop a taken output"
    );
    drop(output);
    assert_eq!(output_drops.get(), 1);
}

#[test]
fn miri_spawn_after_close_is_cancelled() {
    let rt = Rt::new();
    rt.shutdown();
    let drops = Counter::default();
    let spy = drops.spy();
    let mut join = rt.spawn(async move {
        let _spy = spy;
        1
    });
    assert_eq!(rt.queued(), 0);
    assert_eq!(drops.get(), 1);
    assert!(join_now(&mut join).unwrap_err().is_cancelled());
}

// ----- wakers -----------------------------------------------------------------------

#[test]
#[allow(clippy::waker_clone_wake)] // waking a clone by value is the path under test
fn miri_wake_by_ref_by_val_clone_and_drop() {
    let rt = Rt::new();
    let gate = Gate::default();
    let drops = Counter::default();
    let mut join = rt.spawn(gated(&gate, drops.spy(), 5u8));
    rt.run_all();
    assert_eq!(gate.polls(), 1);

    let waker = gate.take_waker();
    drop(waker.clone());
    waker.wake_by_ref();
    waker.wake_by_ref(); // already queued: no second `Notified`
    assert_eq!(rt.queued(), 1);
    rt.run_all();
    assert_eq!(gate.polls(), 2);

    let second = gate.take_waker();
    let extra = second.clone();
    second.wake(); // by value: its reference moves into the `Notified`
    extra.clone().wake(); // already queued: the reference is just dropped
    assert_eq!(rt.queued(), 1);
    rt.run_all();
    assert_eq!(gate.polls(), 3);

    gate.open();
    gate.take_waker().wake();
    rt.run_all();
    assert_eq!(join_now(&mut join).unwrap(), 5);
    assert_eq!(drops.get(), 1);

    // Wakers that outlive the task: waking a finished task does nothing, and the last
    // one to go frees it.
    drop(join);
    waker.wake_by_ref();
    extra.clone().wake();
    assert_eq!(rt.queued(), 0);
    drop(waker);
    assert_eq!(rt.task_refs(), 1);
    extra.wake();
    assert_eq!(rt.task_refs(), 0);
}

#[test]
fn miri_wake_from_another_thread() {
    let rt = Rt::new();
    let gate = Gate::default();
    let mut join = rt.spawn(gated(&gate, Counter::default().spy(), 9u32));
    rt.run_all();
    gate.open();
    let waker = gate.take_waker();
    thread::spawn(move || waker.wake()).join().unwrap();
    assert_eq!(rt.run_all(), 1);
    assert_eq!(join_now(&mut join).unwrap(), 9);
}

#[test]
#[allow(clippy::waker_clone_wake)] // waking a clone by value is the path under test
fn miri_self_wake_yields() {
    let rt = Rt::new();
    let mut join = rt.spawn(async {
        yield_now().await;
        yield_now().await;
        3
    });
    assert_eq!(rt.run_all(), 3);
    assert_eq!(rt.yields(), 2);
    assert_eq!(join_now(&mut join).unwrap(), 3);

    // Waking a clone by value while running hands its reference back.
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let mut join = rt.spawn(poll_fn(move |cx| {
        if counted.fetch_add(1, SeqCst) == 0 {
            cx.waker().clone().wake();
            Poll::Pending
        } else {
            Poll::Ready(4)
        }
    }));
    assert_eq!(rt.run_all(), 2);
    assert_eq!(rt.yields(), 3);
    assert_eq!(join_now(&mut join).unwrap(), 4);
}

// ----- abort ------------------------------------------------------------------------

#[test]
fn miri_self_wake_by_ref_then_ready_abort_or_a_wake_from_elsewhere() {
    let rt = Rt::new();
    // Woken by itself and done in the same poll: it is not run again.
    let mut join = rt.spawn(poll_fn(|cx| {
        cx.waker().wake_by_ref();
        Poll::Ready(1)
    }));
    assert_eq!(rt.run_all(), 1);
    assert_eq!(join_now(&mut join).unwrap(), 1);

    // Woken by itself (through a clone too) and by another thread in the same poll:
    // run once more, not twice.
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let mut join = rt.spawn(poll_fn(move |cx| {
        if counted.fetch_add(1, SeqCst) == 0 {
            cx.waker().wake_by_ref();
            cx.waker().clone().wake_by_ref();
            let other = cx.waker().clone();
            thread::spawn(move || other.wake_by_ref()).join().unwrap();
            Poll::Pending
        } else {
            Poll::Ready(2)
        }
    }));
    assert_eq!(rt.run_all(), 2);
    assert_eq!(join_now(&mut join).unwrap(), 2);

    // Woken by itself and aborted in the same poll: cancelled, not run again.
    let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let inner = slot.clone();
    let drops = Counter::default();
    let spy = drops.spy();
    let mut join = rt.spawn(poll_fn(move |cx| {
        let _keep = &spy;
        cx.waker().wake_by_ref();
        inner.lock().unwrap().take().unwrap().abort();
        Poll::<()>::Pending
    }));
    *slot.lock().unwrap() = Some(join.abort_handle());
    assert_eq!(rt.run_all(), 1);
    assert_eq!(drops.get(), 1);
    assert!(join_now(&mut join).unwrap_err().is_cancelled());

    // A task that wakes another by reference while it runs queues that one at once.
    let gate = Gate::default();
    let mut gated_join = rt.spawn(gated(&gate, Counter::default().spy(), 5u32));
    assert_eq!(rt.run_all(), 1);
    gate.open();
    let other = gate.take_waker();
    let mut join = rt.spawn(async move {
        other.wake_by_ref();
        6
    });
    assert_eq!(rt.run_all(), 2);
    assert_eq!(join_now(&mut join).unwrap(), 6);
    assert_eq!(join_now(&mut gated_join).unwrap(), 5);
}

#[test]
fn miri_abort_while_idle() {
    let rt = Rt::new();
    let gate = Gate::default();
    let drops = Counter::default();
    let mut join = rt.spawn(gated(&gate, drops.spy(), ()));
    rt.run_all();
    join.abort();
    join.abort(); // a second abort neither queues nor counts twice
    assert_eq!(rt.queued(), 1);
    rt.run_all();
    assert_eq!(drops.get(), 1);
    assert_eq!(gate.polls(), 1, "an aborted task is not polled again");
    assert!(join_now(&mut join).unwrap_err().is_cancelled());
    // The stored waker still holds a reference; waking it is a no-op now.
    gate.take_waker().wake();
    assert_eq!(rt.queued(), 0);
}

#[test]
fn miri_abort_while_queued() {
    let rt = Rt::new();
    let gate = Gate::default();
    let drops = Counter::default();
    let mut join = rt.spawn(gated(&gate, drops.spy(), ()));
    let abort = join.abort_handle();
    abort.abort();
    assert_eq!(rt.queued(), 1, "already queued: no second `Notified`");
    rt.run_all();
    assert_eq!(gate.polls(), 0);
    assert_eq!(drops.get(), 1);
    assert!(abort.is_finished());
    assert!(join_now(&mut join).unwrap_err().is_cancelled());
}

#[test]
fn miri_abort_while_running() {
    let rt = Rt::new();
    let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let drops = Counter::default();
    let spy = drops.spy();
    let inner = slot.clone();
    let mut join = rt.spawn(poll_fn(move |_| {
        let _keep = &spy;
        inner.lock().unwrap().take().unwrap().abort();
        Poll::<()>::Pending
    }));
    *slot.lock().unwrap() = Some(join.abort_handle());
    assert_eq!(rt.run_all(), 1, "the abort is acted on as the poll returns");
    assert_eq!(drops.get(), 1);
    assert!(join_now(&mut join).unwrap_err().is_cancelled());

    // Aborted during its last poll, a task that completes keeps its output.
    let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let inner = slot.clone();
    let mut join = rt.spawn(poll_fn(move |_| {
        inner.lock().unwrap().take().unwrap().abort();
        Poll::Ready(8)
    }));
    *slot.lock().unwrap() = Some(join.abort_handle());
    assert_eq!(rt.run_all(), 1);
    assert_eq!(join_now(&mut join).unwrap(), 8);
}

#[test]
fn miri_abort_after_completion_and_handle_outliving_join() {
    let rt = Rt::new();
    let mut join = rt.spawn(async { 1 });
    let abort = join.abort_handle();
    rt.run_all();
    join.abort();
    assert_eq!(join_now(&mut join).unwrap(), 1);
    drop(join);
    abort.abort();
    assert!(abort.is_finished());
    assert_eq!(rt.queued(), 0);
    assert_eq!(rt.task_refs(), 1);
    drop(abort);
    assert_eq!(rt.task_refs(), 0);
}

#[test]
fn miri_cancel_a_queued_notified() {
    let rt = Rt::new();
    let drops = Counter::default();
    let spy = drops.spy();
    let mut join = rt.spawn(async move {
        let _spy = spy;
    });
    rt.pop().unwrap().cancel();
    assert_eq!(drops.get(), 1);
    assert_eq!(rt.live_tasks(), 0);
    assert!(join_now(&mut join).unwrap_err().is_cancelled());
}

#[test]
fn miri_abort_frees_a_detached_task() {
    let rt = Rt::new();
    // Aborted while idle: the run that cancels it drops its last reference.
    let drops = Counter::default();
    let spy = drops.spy();
    let join = rt.spawn(poll_fn(move |_| {
        let _keep = &spy;
        Poll::<()>::Pending
    }));
    rt.run_all();
    join.abort_handle().abort();
    drop(join);
    rt.run_all();
    assert_eq!(drops.get(), 1);
    assert_eq!(rt.task_refs(), 0);

    // Aborted by itself while running, with nobody else holding it.
    let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let inner = slot.clone();
    let join = rt.spawn(poll_fn(move |_| {
        inner.lock().unwrap().take().unwrap().abort();
        Poll::<()>::Pending
    }));
    *slot.lock().unwrap() = Some(join.abort_handle());
    drop(join);
    rt.run_all();
    assert_eq!(rt.task_refs(), 0);
}

// ----- panics -----------------------------------------------------------------------

#[test]
fn miri_panic_in_poll() {
    let rt = Rt::new();
    let drops = Counter::default();
    let spy = drops.spy();
    let mut join = rt.spawn(async move {
        let _spy = spy;
        panic!("miri-test: poll");
    });
    rt.run_all();
    assert_eq!(drops.get(), 1);
    assert_eq!(
        panic_message(join_now(&mut join).unwrap_err()),
        "miri-test: poll"
    );

    // Nobody joins: the payload is dropped by the completing thread.
    drop(rt.spawn(async { panic!("miri-test: unjoined") }));
    rt.run_all();
    assert_eq!(rt.live_tasks(), 0);
}

/// A future that returns (or panics) on its first poll and panics when dropped.
struct PanickyFuture<T> {
    output: Option<T>,
    panic_in_poll: bool,
    _bomb: PanicOnDrop,
}

impl<T: Unpin> Future for PanickyFuture<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        if this.panic_in_poll {
            panic!("miri-test: poll then drop");
        }
        Poll::Ready(this.output.take().unwrap())
    }
}

fn panicky<T>(output: T, panic_in_poll: bool) -> PanickyFuture<T> {
    PanickyFuture {
        output: Some(output),
        panic_in_poll,
        _bomb: PanicOnDrop("miri-test: future drop"),
    }
}

#[test]
fn miri_panic_in_future_drop() {
    let rt = Rt::new();
    // Ready, then the future's destructor panics: the output is dropped quietly and
    // the join sees the panic.
    let output_drops = Counter::default();
    let mut join = rt.spawn(panicky(output_drops.spy(), false));
    rt.run_all();
    assert_eq!(output_drops.get(), 1);
    let message = panic_message(join_now(&mut join).unwrap_err());
    assert_eq!(message, "miri-test: future drop");

    // Panics in poll, then again in drop: the second payload is kept.
    let mut join = rt.spawn(panicky((), true));
    rt.run_all();
    let message = panic_message(join_now(&mut join).unwrap_err());
    assert_eq!(message, "miri-test: future drop");

    // Aborted while idle, and the destructor panics.
    let gate = Gate::default();
    let wait = gate.wait();
    let bomb = PanicOnDrop("miri-test: cancelled drop");
    let mut join = rt.spawn(async move {
        let _bomb = bomb;
        wait.await;
    });
    rt.run_all();
    join.abort();
    rt.run_all();
    let message = panic_message(join_now(&mut join).unwrap_err());
    assert_eq!(message, "miri-test: cancelled drop");
}

#[test]
fn miri_panic_in_output_drop() {
    let rt = Rt::new();
    // Dropped by the completing thread (no JoinHandle) ...
    drop(rt.spawn(async { PanicOnDrop("miri-test: output drop, detached") }));
    rt.run_all();
    // ... and by the JoinHandle after completion.
    let join = rt.spawn(async { PanicOnDrop("miri-test: output drop, joined") });
    rt.run_all();
    drop(join);
    assert_eq!(rt.task_refs(), 0);
}

// ----- shutdown ---------------------------------------------------------------------

#[test]
fn miri_shutdown_cancels_idle_queued_and_detached_tasks() {
    let rt = Rt::new();
    let gate = Gate::default();
    let drops = Counter::default();

    let mut idle = rt.spawn(gated(&gate, drops.spy(), 1));
    rt.run_all();
    let mut done = rt.spawn(async { 2 });
    rt.run_all();
    drop(rt.spawn(gated(&gate, drops.spy(), 3)));
    rt.run_all();
    let mut queued = rt.spawn(gated(&gate, drops.spy(), 4));
    assert_eq!(rt.queued(), 1);
    assert_eq!(rt.live_tasks(), 3);

    rt.shutdown();
    assert_eq!(drops.get(), 3);
    assert_eq!(rt.live_tasks(), 0);
    assert!(join_now(&mut idle).unwrap_err().is_cancelled());
    assert!(join_now(&mut queued).unwrap_err().is_cancelled());
    assert_eq!(join_now(&mut done).unwrap(), 2);
    // The idle tasks' wakers are still around (the gate keeps the last one).
    gate.take_waker().wake();
    assert_eq!(rt.queued(), 0);
}

#[test]
fn miri_pooled_tasks_are_listed_by_short_address_and_cancelled_at_shutdown() {
    use crate::memory::{self, MemoryPlan, MemoryStrategy};

    let rt = Rt::new();
    let gate = Gate::default();
    let drops = Counter::default();
    // This thread drives tasks under a pooled strategy: cells come from its pool, and
    // the owned list keeps their 32-bit short addresses.
    let _pooled = memory::enter(MemoryPlan::for_choice(MemoryStrategy::Pooled, 1));

    let mut idle: Vec<_> = (0..3)
        .map(|n| rt.spawn(gated(&gate, drops.spy(), n)))
        .collect();
    rt.run_all();
    // A finished task leaves its slot free; the next spawn takes it again, so a stale
    // removal must not free the new tenant's slot.
    let mut done = rt.spawn(async { 7 });
    rt.run_all();
    assert_eq!(join_now(&mut done).unwrap(), 7);
    drop(rt.spawn(gated(&gate, drops.spy(), 9)));
    rt.run_all();
    assert_eq!(rt.live_tasks(), 4);
    assert_eq!(rt.0 .0.owned.listed_by_short_address(), 4);

    rt.shutdown();
    assert_eq!(drops.get(), 4);
    assert_eq!(rt.live_tasks(), 0);
    for handle in &mut idle {
        assert!(join_now(handle).unwrap_err().is_cancelled());
    }
    drop((idle, done));
    gate.take_waker().wake();
    assert_eq!(rt.task_refs(), 0);
}

#[test]
fn miri_shutdown_frees_a_forgotten_task() {
    let rt = Rt::new();
    // Detached and idle with no waker anywhere: only the owned list holds it, so the
    // shutdown that cancels it also frees it.
    let drops = Counter::default();
    let spy = drops.spy();
    drop(rt.spawn(poll_fn(move |_| {
        let _keep = &spy;
        Poll::<()>::Pending
    })));
    rt.run_all();
    assert_eq!(rt.task_refs(), 1);
    rt.shutdown();
    assert_eq!(drops.get(), 1);
    assert_eq!(rt.task_refs(), 0);
}

#[test]
fn miri_shutdown_while_the_task_runs() {
    let rt = Rt::new();
    let sched = rt.0.clone();
    let drops = Counter::default();
    let spy = drops.spy();
    let mut join = rt.spawn(poll_fn(move |_| {
        let _keep = &spy;
        // The running task is claimed by nobody: it only gets CANCELLED...
        sched.shutdown();
        Poll::<()>::Pending
    }));
    rt.run_all();
    // ... and cancels itself as its poll returns.
    assert_eq!(drops.get(), 1);
    assert!(join_now(&mut join).unwrap_err().is_cancelled());
}

// ----- the join waker ---------------------------------------------------------------

#[test]
fn miri_join_waker_woken_on_completion() {
    let rt = Rt::new();
    let (wakes, waker) = counting_waker();
    let mut join = rt.spawn(async { 6 });
    assert!(poll_join(&mut join, &waker).is_pending());
    rt.run_all();
    assert_eq!(wakes.0.load(SeqCst), 1);
    match poll_join(&mut join, &waker) {
        Poll::Ready(Ok(6)) => {}
        other => panic!("{other:?}"),
    }
    drop(join);
    drop(waker);
    assert_eq!(Arc::strong_count(&wakes), 1, "the task kept a join waker");
}

#[test]
fn miri_join_waker_replaced() {
    let rt = Rt::new();
    let (first_wakes, first) = counting_waker();
    let (second_wakes, second) = counting_waker();
    let mut join = rt.spawn(async { 7 });
    assert!(poll_join(&mut join, &first).is_pending());
    assert!(poll_join(&mut join, &first.clone()).is_pending()); // same waker: kept
    assert!(poll_join(&mut join, &second).is_pending()); // replaced
    assert_eq!(
        Arc::strong_count(&first_wakes),
        2,
        "the replaced waker was dropped"
    );
    rt.run_all();
    assert_eq!(first_wakes.0.load(SeqCst), 0);
    assert_eq!(second_wakes.0.load(SeqCst), 1);
    assert_eq!(join_now(&mut join).unwrap(), 7);
    drop(join);
    assert_eq!(Arc::strong_count(&second_wakes), 2);

    // A JoinHandle dropped with its waker stored takes the waker with it.
    let gate = Gate::default();
    let mut join = rt.spawn(gated(&gate, Counter::default().spy(), ()));
    assert!(poll_join(&mut join, &first).is_pending());
    assert_eq!(Arc::strong_count(&first_wakes), 3);
    drop(join);
    assert_eq!(Arc::strong_count(&first_wakes), 2);
    rt.run_all();
}

// ----- ids --------------------------------------------------------------------------

/// Each task's memory is freed before the next is spawned, so the allocator hands the
/// same block back: the ids must differ all the same.
#[test]
fn miri_ids_are_not_reused_when_memory_is() {
    let rt = Rt::new();
    let mut ids = Vec::new();
    for _ in 0..8 {
        let mut join = rt.spawn(async { super::try_id() });
        let outer = join.id();
        rt.run_all();
        let inner = join_now(&mut join).unwrap();
        assert_eq!(inner, Some(outer), "task::id() inside != JoinHandle::id()");
        drop(join);
        assert_eq!(rt.live_tasks(), 0);
        ids.push(outer);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "an id was handed out twice: {ids:?}"
    );
    assert!(super::try_id().is_none(), "no task runs here");
}

/// The id moves into the join waker's box on the first wait; it must read the same
/// before, during and after, from the task, its handles and another thread.
#[test]
fn miri_id_stays_put_when_the_join_waker_moves_in() {
    let rt = Rt::new();
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = rt.spawn(async move {
        let before = super::id();
        wait.await;
        (before, super::id())
    });
    let id = join.id();
    let abort = join.abort_handle();
    rt.run_all();
    let (first, second) = (counting_waker().1, counting_waker().1);
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..4 {
                assert_eq!(abort.id(), id);
            }
        });
        assert!(poll_join(&mut join, &first).is_pending());
        assert!(poll_join(&mut join, &second).is_pending());
    });
    assert_eq!(join.id(), id);
    gate.open();
    gate.take_waker().wake();
    rt.run_all();
    assert_eq!(join_now(&mut join).unwrap(), (id, id));
    assert_eq!(abort.id(), id);
}

// ----- across threads ---------------------------------------------------------------

#[test]
fn miri_complete_on_one_thread_join_on_another() {
    let rt = Rt::new();
    let output_drops = Counter::default();
    let output = output_drops.spy();
    let mut join = rt.spawn(async move { output });
    let (wakes, waker) = counting_waker();
    let output = thread::scope(|s| {
        s.spawn(|| rt.run_all());
        match poll_join(&mut join, &waker) {
            Poll::Ready(result) => result,
            Poll::Pending => {
                // Stored before completion: the completing thread must wake us.
                while wakes.0.load(SeqCst) == 0 {
                    thread::yield_now();
                }
                join_now(&mut join)
            }
        }
    })
    .unwrap();
    assert_eq!(output_drops.get(), 0);
    drop((output, join, waker));
    assert_eq!(output_drops.get(), 1);
    assert_eq!(Arc::strong_count(&wakes), 1);
}

#[test]
fn miri_complete_while_join_handle_dropped_on_another_thread() {
    let rt = Rt::new();
    let output_drops = Counter::default();
    let output = output_drops.spy();
    let mut join = rt.spawn(async move { output });
    let (wakes, waker) = counting_waker();
    // Store a join waker first so that the race covers the slot hand-over too.
    assert!(poll_join(&mut join, &waker).is_pending());
    thread::scope(|s| {
        s.spawn(|| rt.run_all());
        s.spawn(move || drop(join));
    });
    assert_eq!(output_drops.get(), 1);
    drop(waker);
    assert_eq!(
        Arc::strong_count(&wakes),
        1,
        "join waker leaked or dropped twice"
    );
}

// ----- the scheduler hook outlives the scheduling call ------------------------------

/// A detached task whose only other reference is the waker: waking it by value hands
/// it to a scheduler that runs (and so frees) it before returning. The task must
/// stay alive until the scheduler's `schedule` returns, since `&self` points into it.
#[test]
fn miri_wake_by_val_keeps_task_alive_through_schedule() {
    let rt = Rt::new();
    let parked: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let slot = parked.clone();
    let mut first = true;
    drop(rt.0.spawn(poll_fn(move |cx| {
        if std::mem::take(&mut first) {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })));
    rt.0.run_all();
    rt.0 .0.run_inline.store(true, SeqCst);
    let waker = parked.lock().unwrap().take().unwrap();
    waker.wake();
    assert_eq!(rt.0.live_tasks(), 0);
}

/// The same for a task that yields: the poll's reference must outlive `yield_now`.
#[test]
fn miri_yield_keeps_task_alive_through_schedule() {
    let rt = Rt::new();
    rt.0 .0.run_inline.store(true, SeqCst);
    drop(rt.0.spawn(yield_now()));
    rt.0.run_all();
    assert_eq!(rt.0.yields(), 1);
    assert_eq!(rt.0.live_tasks(), 0);
}
