//! The `tracing` feature emits what tokio-console reads, with tokio's names: a layer
//! of this test records every span and event a small program makes (named tasks that
//! wake each other, a blocking closure, a local task, a sleep) and the test checks the
//! span names, targets and fields, that each task's span is entered on its polls, and
//! that the waker events name the task by its span's id.

mod common;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone, Default)]
struct SpanRecord {
    name: &'static str,
    target: &'static str,
    fields: HashMap<String, String>,
    parent: Option<u64>,
    enters: usize,
}

#[derive(Debug, Clone)]
struct EventRecord {
    target: String,
    fields: HashMap<String, String>,
}

/// Spans in the order they were made. Not a map by id: the registry reuses a closed
/// span's id, and a later span would overwrite the record of an earlier one.
#[derive(Default)]
struct Recorded {
    spans: Vec<(u64, SpanRecord)>,
    events: Vec<EventRecord>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut record = SpanRecord {
            name: attrs.metadata().name(),
            target: attrs.metadata().target(),
            ..SpanRecord::default()
        };
        attrs.record(&mut Fields(&mut record.fields));
        record.parent = if attrs.is_root() {
            None
        } else {
            attrs
                .parent()
                .cloned()
                .or_else(|| ctx.current_span().id().cloned())
                .map(|p| p.into_u64())
        };
        self.0.lock().unwrap().spans.push((id.into_u64(), record));
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        // The live span with this id is the last one made with it.
        let id = id.into_u64();
        let mut recorded = self.0.lock().unwrap();
        if let Some((_, span)) = recorded.spans.iter_mut().rev().find(|(i, _)| *i == id) {
            span.enters += 1;
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().events.push(EventRecord {
            target: event.metadata().target().to_string(),
            fields,
        });
    }
}

impl Recorder {
    fn spans(&self) -> Vec<(u64, SpanRecord)> {
        self.0.lock().unwrap().spans.clone()
    }
    fn events(&self) -> Vec<EventRecord> {
        self.0.lock().unwrap().events.clone()
    }

    /// The `runtime.spawn` span of task `task_id`.
    fn task_span(&self, task_id: zokio::task::Id) -> (u64, SpanRecord) {
        let wanted = task_id.to_string();
        self.spans()
            .into_iter()
            .find(|(_, s)| s.name == "runtime.spawn" && s.fields.get("task.id") == Some(&wanted))
            .unwrap_or_else(|| panic!("no runtime.spawn span for task {task_id}"))
    }
}

#[track_caller]
fn assert_field(span: &SpanRecord, field: &str, value: &str) {
    assert_eq!(
        span.fields.get(field).map(String::as_str),
        Some(value),
        "field {field} of {span:?}"
    );
}

/// The waiter: parked at least once whatever the timing (its waker cloned and woken
/// from another thread), so that its waker's events are certain; then the sender's
/// value. (Waiting on the channel alone was not enough: where the sender ran first,
/// the waiter never parked, and no waker of its was ever used.)
async fn waiter_task(rx: tokio::sync::oneshot::Receiver<u32>) -> u32 {
    let mut parked = false;
    std::future::poll_fn(|cx| {
        if parked {
            return std::task::Poll::Ready(());
        }
        parked = true;
        let waker = cx.waker().clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            waker.wake();
        });
        std::task::Poll::Pending
    })
    .await;
    rx.await.unwrap()
}

#[test]
fn tasks_wakers_and_sleeps_emit_tokios_spans_and_events() {
    let recorder = Recorder::default();
    tracing_subscriber::registry()
        .with(recorder.clone())
        .try_init()
        .expect("no other subscriber in this test binary");

    common::timed(move || {
        let mut line_sleep = 0;
        for (flavor, rt) in common::flavors_named() {
            let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
            let entered = rt.enter();
            let builder = zokio::task::Builder::new().name("waiter");
            let line_waiter = line!() + 1;
            let waiter = builder.spawn(waiter_task(rx)).unwrap();
            drop(entered);
            let builder = zokio::task::Builder::new().name("sender");
            let line_sender = line!() + 1;
            let sender = builder.spawn_on(async move { tx.send(7).unwrap() }, rt.handle());
            let sender = sender.unwrap();
            let line_sleeper = line!() + 1;
            let sleeper = rt.spawn(async {
                // The sleep's resource span names the next line.
                zokio::time::sleep(Duration::from_millis(20)).await;
            });
            line_sleep = line_sleeper + 2;
            let line_blocking = line!() + 1;
            let blocking = rt.spawn_blocking(|| 1);
            let (waiter_id, sender_id, sleeper_id, blocking_id) =
                (waiter.id(), sender.id(), sleeper.id(), blocking.id());
            rt.block_on(async {
                assert_eq!(waiter.await.unwrap(), 7);
                sender.await.unwrap();
                sleeper.await.unwrap();
                assert_eq!(blocking.await.unwrap(), 1);
            });

            for (id, name, line) in [
                (waiter_id, "waiter", line_waiter),
                (sender_id, "sender", line_sender),
                (sleeper_id, "", line_sleeper),
            ] {
                let (_, span) = recorder.task_span(id);
                assert_eq!(span.target, "tokio::task", "{flavor}: {span:?}");
                assert_field(&span, "kind", "task");
                assert_field(&span, "task.name", name);
                assert_field(&span, "loc.file", file!());
                assert_field(&span, "loc.line", &line.to_string());
                assert!(span.fields.contains_key("loc.col"), "{span:?}");
                assert!(span.fields["size.bytes"].parse::<usize>().unwrap() > 0);
                assert!(span.parent.is_none(), "a task span has no parent: {span:?}");
                assert!(span.enters >= 1, "{flavor}: never entered: {span:?}");
            }
            let (_, span) = recorder.task_span(blocking_id);
            assert_eq!(span.target, "tokio::task::blocking");
            assert_field(&span, "kind", "blocking");
            assert_field(&span, "loc.line", &line_blocking.to_string());

            // The waiter was polled, parked on the channel and woken: its span was
            // entered on each poll, and its waker's events name that span.
            let (waiter_span_id, waiter_span) = recorder.task_span(waiter_id);
            assert!(waiter_span.enters >= 2, "{flavor}: {waiter_span:?}");
            let ops: Vec<String> = recorder
                .events()
                .into_iter()
                .filter(|e| e.target == "tokio::task::waker")
                .filter(|e| e.fields.get("task.id") == Some(&waiter_span_id.to_string()))
                .map(|e| e.fields["op"].clone())
                .collect();
            assert!(
                ops.iter()
                    .any(|op| op == "waker.wake" || op == "waker.wake_by_ref"),
                "{flavor}: the waiter's waker events: {ops:?}"
            );
            assert!(
                ops.iter().any(|op| op == "waker.clone"),
                "{flavor}: {ops:?}"
            );
            assert!(ops
                .iter()
                .any(|op| op == "waker.drop" || op == "waker.wake"));
            for op in &ops {
                assert!(
                    [
                        "waker.wake",
                        "waker.wake_by_ref",
                        "waker.clone",
                        "waker.drop"
                    ]
                    .contains(&op.as_str()),
                    "unknown op {op}"
                );
            }
        }

        // The sleeps: a resource span per sleep, with its creator's line, an async
        // op under it and a poll op under that, all entered when polled.
        let spans = recorder.spans();
        let sleeps: Vec<_> = spans
            .iter()
            .filter(|(_, s)| s.name == "runtime.resource")
            .filter(|(_, s)| s.fields.get("concrete_type").map(String::as_str) == Some("Sleep"))
            .collect();
        assert_eq!(sleeps.len(), common::flavors_named().len(), "{sleeps:?}");
        for (id, sleep) in sleeps {
            assert_field(sleep, "kind", "timer");
            assert_field(sleep, "loc.file", file!());
            assert_field(sleep, "loc.line", &line_sleep.to_string());
            assert!(sleep.parent.is_none());
            assert!(sleep.enters >= 2, "{sleep:?}");
            let (op_id, op) = spans
                .iter()
                .find(|(_, s)| s.name == "runtime.resource.async_op" && s.parent == Some(*id))
                .expect("an async op under the sleep");
            assert_field(op, "source", "Sleep::new_timeout");
            let (_, poll) = spans
                .iter()
                .find(|(_, s)| {
                    s.name == "runtime.resource.async_op.poll" && s.parent == Some(*op_id)
                })
                .expect("a poll op under the async op");
            assert!(poll.enters >= 2);
        }
        let events = recorder.events();
        let poll_ops: Vec<_> = events
            .iter()
            .filter(|e| e.target == "runtime::resource::poll_op")
            .collect();
        assert!(poll_ops.iter().any(|e| e.fields["is_ready"] == "true"));
        assert!(poll_ops.iter().any(|e| e.fields["is_ready"] == "false"));
        assert!(poll_ops
            .iter()
            .all(|e| e.fields["op_name"] == "poll_elapsed"));
        let update = events
            .iter()
            .find(|e| e.target == "runtime::resource::state_update")
            .expect("a state update when the sleep registered");
        assert_eq!(update.fields["duration.unit"], "ms");
        assert_eq!(update.fields["duration.op"], "override");
        assert!(update.fields["duration"].parse::<u64>().unwrap() <= 20);

        // A local task's kind.
        let rt = common::current_thread();
        let local = zokio::task::LocalSet::new();
        let join = local.spawn_local(async { 3 });
        let id = join.id();
        assert_eq!(local.block_on(&rt, join).unwrap(), 3);
        let (_, span) = recorder.task_span(id);
        assert_field(&span, "kind", "local");
    });
}
