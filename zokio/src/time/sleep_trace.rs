//! The timer instrumentation of the `tracing` feature, as tokio emits it for its
//! `Sleep` and console-subscriber reads it: a `runtime.resource` span per sleep
//! (`concrete_type = "Sleep"`, `kind = "timer"`, the creator's `loc.*`), an
//! `runtime.resource.async_op` span under it (`source = "Sleep::new_timeout"`) and an
//! `runtime.resource.async_op.poll` span under that, all three entered while the
//! sleep is polled; `runtime::resource::poll_op` events for each poll's readiness,
//! and `runtime::resource::state_update` events when the deadline is (re)set.
//!
//! Only compiled with the feature; the spans are created with the sleep, wherever
//! that is, and never touch a driver.

use std::panic::Location;
use std::task::Poll;

use super::Instant;

/// A sleep's three spans.
pub(super) struct SleepTrace {
    resource: tracing::Span,
    async_op: tracing::Span,
    async_op_poll: tracing::Span,
}

impl SleepTrace {
    pub(super) fn new(location: &'static Location<'static>) -> SleepTrace {
        let resource = tracing::trace_span!(
            parent: None,
            "runtime.resource",
            concrete_type = "Sleep",
            kind = "timer",
            loc.file = location.file(),
            loc.line = location.line(),
            loc.col = location.column(),
        );
        let async_op = tracing::trace_span!(
            parent: &resource,
            "runtime.resource.async_op",
            source = "Sleep::new_timeout",
        );
        let async_op_poll =
            tracing::trace_span!(parent: &async_op, "runtime.resource.async_op.poll");
        SleepTrace {
            resource,
            async_op,
            async_op_poll,
        }
    }

    /// Runs one poll of the sleep inside its spans, and reports its readiness.
    pub(super) fn poll(&self, poll: impl FnOnce() -> Poll<()>) -> Poll<()> {
        let _resource = self.resource.enter();
        let _async_op = self.async_op.enter();
        let _async_op_poll = self.async_op_poll.enter();
        let result = poll();
        tracing::trace!(
            target: "runtime::resource::poll_op",
            op_name = "poll_elapsed",
            is_ready = result.is_ready(),
        );
        result
    }

    /// The deadline was set (first registration or a reset): the time left, in
    /// milliseconds, as tokio reports it.
    pub(super) fn deadline_set(&self, deadline: Instant) {
        let _resource = self.resource.enter();
        let left = deadline.saturating_duration_since(Instant::now());
        tracing::trace!(
            target: "runtime::resource::state_update",
            duration = u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            duration.unit = "ms",
            duration.op = "override",
        );
    }
}
