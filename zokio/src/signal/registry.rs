//! The process-wide dispatcher: per signal, a delivery counter (its generation), the
//! number of listeners and the wakers of those waiting; per runtime with a listener,
//! its reader task. A listener remembers the generation it last reported and is ready
//! when the generation moved, so deliveries between two `recv`s coalesce into one and
//! every listener, in whatever runtime, sees every delivery.
//!
//! The first listener of a signal installs everything the platform needs (on Unix:
//! handler, signalfd mask, runtime thread masks; on Windows: the console control
//! handler) before the listener is returned; the last one puts it back. What that is
//! lives in `os`, `os_unix.rs` or `os_windows.rs`; everything in this file is the same
//! on every platform, where a "signal" is a number from 1 to [`MAX_SIGNAL`] (on
//! Windows, a console control event plus one). This module never runs in signal
//! context and never holds its lock while spawning, aborting or waking a task.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::os;
use crate::runtime::{Handle, Id};
use crate::task::AbortHandle;

/// The highest signal number handled: the width of the kernel's signal set (64 on
/// Linux, where `SIGRTMAX` is 64 at most); far more than Windows' console events.
pub(crate) const MAX_SIGNAL: usize = 64;

/// The bit that stands for signal `signum` (1..=64) in a set of signals.
pub(crate) const fn bit(signum: usize) -> u64 {
    1 << (signum - 1)
}

/// The signal numbers in a set of signals, in order.
pub(crate) fn signals_of(bits: u64) -> impl Iterator<Item = usize> {
    (1..=MAX_SIGNAL).filter(move |signum| bits & bit(*signum) != 0)
}

/// How many deliveries of each signal were counted so far.
static GENERATIONS: [AtomicU64; MAX_SIGNAL + 1] = [const { AtomicU64::new(0) }; MAX_SIGNAL + 1];

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    slots: [const { Slot::EMPTY }; MAX_SIGNAL + 1],
    readers: Vec::new(),
    os: os::State::NEW,
    next_id: 0,
});

struct Registry {
    slots: [Slot; MAX_SIGNAL + 1],
    readers: Vec<ReaderEntry>,
    /// The platform layer's own state, changed only under this lock.
    os: os::State,
    next_id: u64,
}

struct Slot {
    listeners: usize,
    /// Listeners waiting for the generation to move, by listener id.
    wakers: Vec<(u64, Waker)>,
    /// What the platform layer replaced for this signal, while it is armed.
    saved: Option<os::Saved>,
}

impl Slot {
    const EMPTY: Slot = Slot {
        listeners: 0,
        wakers: Vec::new(),
        saved: None,
    };
}

/// The reader of one runtime, kept while that runtime has listeners.
struct ReaderEntry {
    runtime: Id,
    listeners: usize,
    shared: Arc<ReaderState>,
    /// Set once the task is spawned.
    abort: Option<AbortHandle>,
}

/// Whether a runtime's reader still runs; its listeners end (`None`) once it does not.
pub(super) struct ReaderState {
    alive: AtomicBool,
}

fn lock() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// One listener's place in the dispatcher; dropping it unregisters.
pub(super) struct Listener {
    signum: usize,
    id: u64,
    seen: u64,
    runtime: Id,
    reader: Arc<ReaderState>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.signum)
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

/// Start listening for `signum` (already checked) on `handle`'s runtime.
pub(super) fn register(signum: usize, handle: &Handle) -> io::Result<Listener> {
    let mut registry = lock();
    if registry.slots[signum].listeners == 0 {
        let saved = os::arm(signum, &mut registry.os)?;
        registry.slots[signum].saved = Some(saved);
    }
    registry.slots[signum].listeners += 1;
    let id = registry.next_id;
    registry.next_id += 1;
    let runtime = handle.id();
    let existing = registry.readers.iter_mut().find(|r| r.runtime == runtime);
    let (reader, spawn) = match existing {
        Some(entry) => {
            entry.listeners += 1;
            (entry.shared.clone(), false)
        }
        None => {
            let shared = Arc::new(ReaderState {
                alive: AtomicBool::new(true),
            });
            registry.readers.push(ReaderEntry {
                runtime,
                listeners: 1,
                shared: shared.clone(),
                abort: None,
            });
            (shared, true)
        }
    };
    // Everything is in place: a signal raised from here on moves the generation.
    let seen = GENERATIONS[signum].load(Ordering::SeqCst);
    drop(registry);
    os::listeners_changed();
    if spawn {
        let task = handle.spawn(reader_task(reader.clone()));
        let mut registry = lock();
        let entry = registry
            .readers
            .iter_mut()
            .find(|r| Arc::ptr_eq(&r.shared, &reader));
        // No entry: the task already ended (its runtime is shutting down).
        if let Some(entry) = entry {
            entry.abort = Some(task.abort_handle());
        }
    }
    Ok(Listener {
        signum,
        id,
        seen,
        runtime,
        reader,
    })
}

/// A runtime's reader task: the platform's source of deliveries, and the report to
/// the dispatcher when the task ends, however it ends (aborted when its runtime's
/// last listener went, or dropped with its runtime). Where deliveries come from a
/// thread of the system's (Windows), the source never completes: the task is then
/// only there to end with its runtime.
fn reader_task(state: Arc<ReaderState>) -> impl Future<Output = ()> + Send + 'static {
    // Made now, not on first poll, so that a task dropped unpolled still reports.
    let gone = Gone(state);
    let deliveries = os::read_deliveries();
    async move {
        let _gone = gone;
        deliveries.await;
    }
}

/// Tells the dispatcher the reader ended, however it ended.
struct Gone(Arc<ReaderState>);

impl Drop for Gone {
    fn drop(&mut self) {
        reader_gone(&self.0);
    }
}

/// Count one delivery of `signum` and wake its listeners, if it has any; whether it
/// had. For a source that must tell the system whether the event was taken (a
/// Windows console control handler).
#[cfg(windows)]
pub(super) fn deliver_if_listened(signum: usize) -> bool {
    let listened = lock().slots[signum].listeners > 0;
    if listened {
        deliver(bit(signum));
    }
    listened
}

/// Count one delivery of each signal in `bits` and wake their listeners.
pub(super) fn deliver(bits: u64) {
    if bits == 0 {
        return;
    }
    for signum in signals_of(bits) {
        GENERATIONS[signum].fetch_add(1, Ordering::SeqCst);
    }
    let mut woken = Vec::new();
    {
        let mut registry = lock();
        for signum in signals_of(bits) {
            woken.extend(registry.slots[signum].wakers.drain(..).map(|(_, w)| w));
        }
    }
    woken.into_iter().for_each(Waker::wake);
}

/// A runtime's reader task ended. If its runtime still had listeners (it is shutting
/// down), they end too: wake them so that they see it.
fn reader_gone(state: &Arc<ReaderState>) {
    state.alive.store(false, Ordering::SeqCst);
    let mut woken = Vec::new();
    {
        let mut registry = lock();
        let position = registry
            .readers
            .iter()
            .position(|r| Arc::ptr_eq(&r.shared, state));
        if let Some(position) = position {
            registry.readers.swap_remove(position);
            for slot in registry.slots.iter_mut() {
                woken.extend(slot.wakers.drain(..).map(|(_, w)| w));
            }
        }
    }
    woken.into_iter().for_each(Waker::wake);
}

impl Listener {
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if let Some(ready) = self.check() {
            return Poll::Ready(ready);
        }
        let mut registry = lock();
        // Checked again under the lock: `deliver` counts before it takes the lock, so
        // a delivery either shows here or finds the waker registered below.
        if let Some(ready) = self.check() {
            return Poll::Ready(ready);
        }
        let wakers = &mut registry.slots[self.signum].wakers;
        match wakers.iter_mut().find(|(id, _)| *id == self.id) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => wakers.push((self.id, cx.waker().clone())),
        }
        Poll::Pending
    }

    /// `Some(None)` once the reader of this listener's runtime is gone (whatever
    /// other runtimes still count), `Some(Some(()))` for a delivery not reported yet,
    /// `None` to wait.
    fn check(&mut self) -> Option<Option<()>> {
        if !self.reader.alive.load(Ordering::SeqCst) {
            return Some(None);
        }
        let now = GENERATIONS[self.signum].load(Ordering::SeqCst);
        if now != self.seen {
            self.seen = now;
            return Some(Some(()));
        }
        None
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let signum = self.signum;
        let mut abort = None;
        {
            let mut registry = lock();
            let slot = &mut registry.slots[signum];
            slot.wakers.retain(|(id, _)| *id != self.id);
            slot.listeners -= 1;
            if slot.listeners == 0 {
                if let Some(saved) = slot.saved.take() {
                    os::disarm(signum, &mut registry.os, saved);
                }
            }
            let entry = registry
                .readers
                .iter()
                .position(|r| Arc::ptr_eq(&r.shared, &self.reader));
            if let Some(position) = entry {
                let entry = &mut registry.readers[position];
                entry.listeners -= 1;
                if entry.listeners == 0 {
                    abort = registry.readers.swap_remove(position).abort;
                }
            }
        }
        if let Some(abort) = abort {
            abort.abort();
        }
        os::listeners_changed();
    }
}
