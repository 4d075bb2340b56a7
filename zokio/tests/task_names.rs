//! Task names and spawn locations: with `Builder::enable_spawn_locations`, every
//! spawn path records its caller's line, a `task::Builder` adds the name, and
//! `Handle::alive_tasks` (or `LocalSet::alive_tasks`) lists both for each live task,
//! on every flavour; a finished task leaves the list. Without it, only named tasks,
//! blocking closures and `LocalSet` tasks carry a location.

mod common;

use std::future::pending;
use std::panic::Location;
use std::sync::mpsc;
use std::time::Duration;

use zokio::runtime::Handle;
use zokio::task::{self, Id, JoinSet, LocalSet, TaskInfo};

/// One runtime of every flavour, recording spawn locations.
fn flavors_named() -> Vec<(&'static str, zokio::runtime::Runtime)> {
    common::builders()
        .into_iter()
        .map(|(name, mut builder)| {
            let rt = builder.enable_all().enable_spawn_locations().build();
            (name, rt.expect("building a runtime"))
        })
        .collect()
}

/// The live task `id` as `tasks` has it.
fn find(tasks: &[TaskInfo], id: Id) -> TaskInfo {
    tasks
        .iter()
        .find(|t| t.id() == id)
        .cloned()
        .unwrap_or_else(|| panic!("task {id} is not among the live tasks: {tasks:?}"))
}

#[track_caller]
fn assert_info(flavor: &str, path: &str, info: &TaskInfo, name: Option<&str>, line: u32) {
    let location = info
        .location()
        .unwrap_or_else(|| panic!("{flavor} {path}: no spawn location: {info:?}"));
    assert_eq!(location.file(), file!(), "{flavor} {path}: {info:?}");
    assert_eq!(location.line(), line, "{flavor} {path}: {info:?}");
    assert_eq!(info.name(), name, "{flavor} {path}: {info:?}");
}

#[test]
fn every_spawn_path_records_its_callers_line_and_the_builders_name() {
    common::timed(|| {
        for (flavor, rt) in flavors_named() {
            let handle = rt.handle().clone();
            let mut expected: Vec<(&str, Id, Option<&str>, u32)> = Vec::new();
            let mut joins = Vec::new();

            let line = line!() + 1;
            let join = rt.spawn(pending::<()>());
            expected.push(("Runtime::spawn", join.id(), None, line));
            joins.push(join);
            let line = line!() + 1;
            let join = handle.spawn(pending::<()>());
            expected.push(("Handle::spawn", join.id(), None, line));
            joins.push(join);
            let builder = task::Builder::new().name("built-on");
            let line = line!() + 1;
            let join = builder.spawn_on(pending::<()>(), &handle).unwrap();
            expected.push(("Builder::spawn_on", join.id(), Some("built-on"), line));
            joins.push(join);

            let mut set = JoinSet::new();
            let line = line!() + 1;
            let abort = set.spawn_on(pending::<()>(), &handle);
            expected.push(("JoinSet::spawn_on", abort.id(), None, line));

            let (release, wait) = mpsc::channel::<()>();
            let blocker = move || {
                let _ = wait.recv();
            };
            let builder = task::Builder::new().name("blocker");
            let line = line!() + 1;
            let blocking = builder.spawn_blocking_on(blocker, &handle).unwrap();
            expected.push((
                "Builder::spawn_blocking_on",
                blocking.id(),
                Some("blocker"),
                line,
            ));

            let (inner, inner_joins, mut inner_set, inner_blocking, inner_release) =
                rt.block_on(async {
                    let mut expected = Vec::new();
                    let mut joins = Vec::new();
                    let line = line!() + 1;
                    let join = zokio::spawn(pending::<()>());
                    expected.push(("zokio::spawn", join.id(), None, line));
                    joins.push(join);
                    let line = line!() + 1;
                    let join = task::spawn(pending::<()>());
                    expected.push(("task::spawn", join.id(), None, line));
                    joins.push(join);
                    let builder = task::Builder::new().name("built");
                    let line = line!() + 1;
                    let join = builder.spawn(pending::<()>()).unwrap();
                    expected.push(("Builder::spawn", join.id(), Some("built"), line));
                    joins.push(join);
                    let mut set = JoinSet::new();
                    let line = line!() + 1;
                    let abort = set.spawn(pending::<()>());
                    expected.push(("JoinSet::spawn", abort.id(), None, line));
                    let (release, wait) = mpsc::channel::<()>();
                    let line = line!() + 1;
                    let blocking = task::spawn_blocking(move || {
                        let _ = wait.recv();
                    });
                    expected.push(("spawn_blocking", blocking.id(), None, line));
                    (expected, joins, set, blocking, release)
                });
            expected.extend(inner);
            joins.extend(inner_joins);

            let tasks = handle.alive_tasks();
            for &(path, id, name, line) in &expected {
                assert_info(flavor, path, &find(&tasks, id), name, line);
            }

            // Finished tasks leave the list.
            drop((release, inner_release));
            rt.block_on(async {
                blocking.await.unwrap();
                inner_blocking.await.unwrap();
                for join in &joins {
                    join.abort();
                }
                for join in joins {
                    assert!(join.await.unwrap_err().is_cancelled());
                }
                set.shutdown().await;
                inner_set.shutdown().await;
            });
            // A task leaves the list just after waking its joiner, so wait a little.
            common::spin_until(Duration::from_secs(10), "finished tasks leaving", || {
                let left = handle.alive_tasks();
                expected
                    .iter()
                    .all(|&(_, id, _, _)| left.iter().all(|t| t.id() != id))
            });
        }
    });
}

#[test]
fn local_spawn_paths_record_their_callers_line_and_name() {
    common::timed(|| {
        let rt = common::current_thread();
        let local = LocalSet::new();
        let mut expected: Vec<(&str, Id, Option<&str>, u32)> = Vec::new();
        let line = line!() + 1;
        let join = local.spawn_local(pending::<()>());
        expected.push(("LocalSet::spawn_local", join.id(), None, line));
        let builder = task::Builder::new().name("local-on");
        let line = line!() + 1;
        let named = builder.spawn_local_on(pending::<()>(), &local).unwrap();
        expected.push((
            "Builder::spawn_local_on",
            named.id(),
            Some("local-on"),
            line,
        ));
        let more = local.block_on(&rt, async {
            let mut expected = Vec::new();
            let line = line!() + 1;
            let join = task::spawn_local(pending::<()>());
            expected.push(("spawn_local", join.id(), None, line));
            let builder = task::Builder::new().name("local");
            let line = line!() + 1;
            let named = builder.spawn_local(pending::<()>()).unwrap();
            expected.push(("Builder::spawn_local", named.id(), Some("local"), line));
            let mut set = JoinSet::new();
            let line = line!() + 1;
            let abort = set.spawn_local(pending::<()>());
            expected.push(("JoinSet::spawn_local", abort.id(), None, line));
            set.detach_all();
            expected
        });
        expected.extend(more);
        let tasks = local.alive_tasks();
        for &(path, id, name, line) in &expected {
            assert_info("local", path, &find(&tasks, id), name, line);
        }
        assert!(
            rt.handle().alive_tasks().is_empty(),
            "a LocalSet's tasks are its own"
        );
    });
}

#[test]
fn a_location_is_the_callers_even_through_a_helper_marked_track_caller() {
    #[track_caller]
    fn spawn_here(handle: &Handle) -> task::JoinHandle<()> {
        handle.spawn(pending::<()>())
    }
    let rt = zokio::runtime::Builder::new_current_thread()
        .enable_spawn_locations()
        .build()
        .unwrap();
    let line = line!() + 1;
    let join = spawn_here(rt.handle());
    let info = find(&rt.handle().alive_tasks(), join.id());
    assert_eq!(info.location().unwrap().line(), line);
    assert_eq!(info.location().unwrap().file(), file!());
    assert!(std::ptr::eq(
        info.location().unwrap(),
        info.location().unwrap()
    ));
    let _ = Location::caller();
}

#[test]
fn by_default_only_named_tasks_and_blocking_closures_carry_a_location() {
    common::timed(|| {
        for (flavor, rt) in common::flavors_named() {
            let handle = rt.handle().clone();
            let plain = rt.spawn(pending::<()>());
            let builder = task::Builder::new().name("kept");
            let line = line!() + 1;
            let named = builder.spawn_on(pending::<()>(), &handle);
            let named = named.unwrap();
            let (release, wait) = mpsc::channel::<()>();
            let blocking_line = line!() + 1;
            let blocking = handle.spawn_blocking(move || {
                let _ = wait.recv();
            });
            let tasks = handle.alive_tasks();
            let info = find(&tasks, plain.id());
            // The `tracing` feature turns locations on for tokio-console.
            let recorded = cfg!(feature = "tracing");
            assert_eq!(info.location().is_some(), recorded, "{flavor}: {info:?}");
            assert_eq!(info.name(), None, "{flavor}: {info:?}");
            assert_info(
                flavor,
                "named",
                &find(&tasks, named.id()),
                Some("kept"),
                line,
            );
            assert_info(
                flavor,
                "spawn_blocking",
                &find(&tasks, blocking.id()),
                None,
                blocking_line,
            );
            plain.abort();
            named.abort();
            release.send(()).unwrap();
            rt.block_on(async { blocking.await.unwrap() });
        }
    });
}
