//! Task ids are unique for the life of the process, as tokio's are: a task spawned
//! after another one finished gets a new id even when it reuses the finished task's
//! memory, on every flavour and across runtimes.

mod common;

use std::collections::HashSet;

use common::flavors_named;
use zokio::task;

/// One after the other, each finished (and freed) before the next is spawned.
const SEQUENTIAL: usize = 200;

#[test]
fn ids_of_tasks_spawned_one_after_another_never_repeat() {
    common::timed(|| {
        let mut seen = HashSet::new();
        for (name, rt) in flavors_named() {
            let ids = rt.block_on(async {
                let mut ids = Vec::new();
                for _ in 0..SEQUENTIAL {
                    let join = zokio::spawn(async { task::id() });
                    let outer = join.id();
                    let inner = join.await.unwrap();
                    assert_eq!(inner, outer, "task::id() inside != JoinHandle::id()");
                    ids.push(inner);
                }
                // Blocking closures are tasks too.
                for _ in 0..8 {
                    let join = task::spawn_blocking(|| ());
                    ids.push(join.id());
                    join.await.unwrap();
                }
                ids
            });
            for id in ids {
                // `seen` spans every flavour, so this also covers ids across runtimes.
                assert!(seen.insert(id), "{name}: task id {id} handed out twice");
            }
        }
        assert_eq!(seen.len(), 3 * (SEQUENTIAL + 8));
    })
}

#[test]
fn ids_read_the_same_from_the_task_its_handles_and_its_join_error() {
    common::timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let join = zokio::spawn(async {
                    let id = task::id();
                    zokio::task::yield_now().await;
                    assert_eq!(task::id(), id, "id changed across a yield");
                    std::future::pending::<()>().await
                });
                let id = join.id();
                let abort = join.abort_handle();
                assert_eq!(abort.id(), id, "{name}");
                abort.abort();
                let err = join.await.unwrap_err();
                assert!(err.is_cancelled(), "{name}");
                assert_eq!(err.id(), id, "{name}: JoinError::id()");
                // Printed as a plain number, as tokio prints its ids.
                assert!(id.to_string().parse::<u64>().is_ok(), "{name}: {id}");
            });
        }
    })
}

/// Sends `task::try_id()` from its destructor.
struct ReportIdOnDrop(Option<std::sync::mpsc::Sender<Option<task::Id>>>);

impl Drop for ReportIdOnDrop {
    fn drop(&mut self) {
        let _ = self.0.take().unwrap().send(task::try_id());
    }
}

// tokio's task_id_future_destructor_* and task_id_output_destructor_* tests.
#[test]
fn destructors_of_the_future_and_the_output_see_their_task_as_current() {
    common::timed(|| {
        use std::sync::mpsc::channel;
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                // The future, dropped on completion.
                let (tx, rx) = channel();
                let spy = ReportIdOnDrop(Some(tx));
                let join = zokio::spawn(async move {
                    let _spy = spy;
                });
                let id = join.id();
                join.await.unwrap();
                assert_eq!(rx.recv().unwrap(), Some(id), "{name}: future, completed");

                // The future, dropped by an abort.
                let (tx, rx) = channel();
                let spy = ReportIdOnDrop(Some(tx));
                let join = zokio::spawn(async move {
                    let _spy = spy;
                    std::future::pending::<()>().await
                });
                let id = join.id();
                join.abort();
                assert!(join.await.unwrap_err().is_cancelled());
                assert_eq!(rx.recv().unwrap(), Some(id), "{name}: future, aborted");

                // The output, with the handle dropped before completion (the task
                // drops it) and after (the handle's owner drops it).
                let (tx, rx) = channel();
                let output = ReportIdOnDrop(Some(tx));
                let join = zokio::spawn(async move { output });
                let id = join.id();
                drop(join);
                let seen = zokio::task::spawn_blocking(move || rx.recv().unwrap())
                    .await
                    .unwrap();
                assert_eq!(seen, Some(id), "{name}: output, handle dropped first");

                let (tx, rx) = channel();
                let output = ReportIdOnDrop(Some(tx));
                let (done_tx, done_rx) = zokio::sync::oneshot::channel();
                let join = zokio::spawn(async move {
                    let _ = done_tx.send(());
                    output
                });
                let id = join.id();
                done_rx.await.unwrap();
                while !join.is_finished() {
                    zokio::task::yield_now().await;
                }
                drop(join);
                assert_eq!(
                    rx.recv().unwrap(),
                    Some(id),
                    "{name}: output, handle dropped after"
                );
            });
        }
    })
}
