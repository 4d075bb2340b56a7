//! Children whose `Child` was dropped before they were reaped: they must still be
//! reaped, or each stays a zombie (an entry in the kernel's process table) until
//! this program exits.
//!
//! A dropped child that still runs goes onto one process-wide list, and, inside a
//! runtime, a small task waits for it natively and reaps it. The list is also swept
//! (a non-blocking reap of each entry) on every `Command::spawn` and every finished
//! `Child::wait`, which covers children whose task could not run (no runtime at the
//! drop, or a runtime that shut down first).
//!
//! The limit, shared with tokio's orphan queue: a program that drops a running
//! child, loses its runtime, and then never spawns or waits for a child again keeps
//! that zombie until it exits. Nothing here may wait for a child in a blocking way.

use std::sync::{Arc, Mutex, PoisonError};

use super::wait::Process;
use crate::runtime::Handle;

/// Dropped children not reaped yet.
static ORPHANS: Mutex<Vec<Arc<Process>>> = Mutex::new(Vec::new());

/// Take charge of a dropped child: reap it now if it has exited, else keep it on
/// the list and, inside a runtime, wait for it in a task of its own.
pub(super) fn adopt(process: Arc<Process>) {
    if !matches!(process.try_reap(), Ok(None)) {
        // Reaped now, or it cannot be reaped at all (someone else did): done.
        return;
    }
    ORPHANS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(process.clone());
    if let Ok(handle) = Handle::try_current() {
        drop(handle.spawn(async move {
            // An error means the child cannot be reaped by us at all; the sweep
            // below then drops it from the list either way.
            let _ = process.wait().await;
            drop(process);
            sweep();
        }));
    }
}

/// Reap every listed child that has exited and forget it; keep those still running.
pub(super) fn sweep() {
    let mut orphans = ORPHANS.lock().unwrap_or_else(PoisonError::into_inner);
    if orphans.is_empty() {
        return;
    }
    orphans.retain(|process| matches!(process.try_reap(), Ok(None)));
}
