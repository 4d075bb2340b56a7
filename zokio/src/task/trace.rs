//! The task instrumentation of the `tracing` feature, with the span and event names,
//! targets and fields that tokio emits and `console-subscriber` reads: one
//! `runtime.spawn` span per task (entered on each poll by the `Instrumented` wrapper
//! the task's future gets), and one `runtime::waker` event per waker operation.
//!
//! Only compiled with the feature. Nothing here may take a lock or allocate beyond
//! what the subscriber does itself.

use std::ptr::NonNull;

use super::header::Header;
use super::meta::SpawnMeta;
use super::Id;

/// The `runtime.spawn` span of a new task of kind `kind` (`task`, `local` or
/// `blocking`), spawned as `spawn` says (no location: one the runtime spawned for
/// itself). Its parent is never the current span: a task outlives its spawner.
/// `size` is the future's size in bytes (console warns about large ones).
pub(super) fn task_span(
    kind: &'static str,
    id: Id,
    spawn: Option<SpawnMeta<'_>>,
    size: usize,
) -> tracing::Span {
    let name = spawn.and_then(|s| s.name).unwrap_or_default();
    let (file, line, col) = spawn.map_or(("<unknown>", 0, 0), |s| {
        (s.location.file(), s.location.line(), s.location.column())
    });
    if kind == "blocking" {
        tracing::trace_span!(
            target: "tokio::task::blocking",
            parent: None,
            "runtime.spawn",
            kind = %kind,
            task.name = %name,
            task.id = id.as_u64(),
            size.bytes = size,
            loc.file = file,
            loc.line = line,
            loc.col = col,
        )
    } else {
        tracing::trace_span!(
            target: "tokio::task",
            parent: None,
            "runtime.spawn",
            kind = %kind,
            task.name = %name,
            task.id = id.as_u64(),
            size.bytes = size,
            loc.file = file,
            loc.line = line,
            loc.col = col,
        )
    }
}

/// A waker operation on `task` (`waker.clone`, `waker.wake`, `waker.wake_by_ref`,
/// `waker.drop`), named by the task's span id as console expects.
pub(super) fn waker_op(task: NonNull<Header>, op: &'static str) {
    // SAFETY: the caller holds (or borrows) a reference to the task.
    let header = unsafe { task.as_ref() };
    if let Some(id) = &header.tracing_id {
        tracing::trace!(
            target: "tokio::task::waker",
            op = op,
            task.id = id.into_u64(),
        );
    }
}
