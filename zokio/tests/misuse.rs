//! API misuse: `zokio::spawn`/`spawn_blocking`/`Handle::current()` outside a
//! runtime panic with a helpful message, `Handle::try_current()` and
//! `task::try_id()` report the absence of a runtime, and nested `block_on`
//! (inside a task or inside another `block_on`) panics with a message naming
//! `block_on` instead of deadlocking, leaving the runtime usable.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::*;
use zokio::runtime::Handle;

/// The runtime's panic for `what` (`zokio::spawn`, ...) called outside a runtime.
fn outside_runtime(what: &str) -> String {
    // A fresh thread has no runtime, whatever the caller's thread has.
    let no_runtime = std::thread::spawn(|| Handle::try_current().unwrap_err().to_string())
        .join()
        .unwrap();
    format!("`{what}` {no_runtime}")
}

/// The runtime's panic for a `block_on` on a thread that already drives tasks.
/// Should it change, that panic merely prints again; the tests check what it says
/// apart.
const NESTED_BLOCK_ON: &str = "Cannot start a runtime from within a runtime: `block_on` was \
    called on a thread that is already driving Zokio tasks, which would block them all. Use \
    `.await` inside async code, or move the blocking call into `zokio::task::spawn_blocking`.";

/// Keeps the runtime's panics that these tests provoke on purpose quiet.
fn quiet_misuse_panics() {
    quiet_panics_with(&[
        outside_runtime("zokio::spawn"),
        outside_runtime("zokio::task::spawn_blocking"),
        outside_runtime("zokio::runtime::Handle::current()"),
        NESTED_BLOCK_ON.to_string(),
    ]);
}

fn panic_text<R>(f: impl FnOnce() -> R) -> String {
    quiet_misuse_panics();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => panic_message(&*payload).expect("panic payload is not a string"),
    }
}

fn assert_names_runtime(msg: &str, what: &str) {
    let lower = msg.to_lowercase();
    assert!(
        lower.contains("zokio") && lower.contains("runtime"),
        "{what}: panic message should mention the Zokio runtime, got: {msg:?}"
    );
}

#[test]
fn spawn_outside_runtime_panics_with_message() {
    let msg = panic_text(|| zokio::spawn(async {}));
    assert_names_runtime(&msg, "zokio::spawn");
    let msg = panic_text(|| zokio::task::spawn(async { 1 }));
    assert_names_runtime(&msg, "zokio::task::spawn");
}

#[test]
fn spawn_blocking_outside_runtime_panics_with_message() {
    let msg = panic_text(|| zokio::task::spawn_blocking(|| 1));
    assert_names_runtime(&msg, "zokio::task::spawn_blocking");
}

#[test]
fn handle_current_outside_runtime_panics_with_message() {
    let msg = panic_text(Handle::current);
    assert_names_runtime(&msg, "Handle::current");
}

#[test]
fn try_current_and_try_id_outside_runtime() {
    assert!(Handle::try_current().is_err());
    assert!(zokio::task::try_id().is_none());
    let rt = current_thread();
    rt.block_on(async {
        assert!(Handle::try_current().is_ok());
        // block_on's own future is not a task.
        let id = zokio::spawn(async { zokio::task::try_id() }).await.unwrap();
        assert!(id.is_some());
    });
    drop(rt);
    assert!(Handle::try_current().is_err());
    // An error value can be displayed.
    let err = Handle::try_current().err().unwrap();
    assert!(!err.to_string().is_empty());
}

#[test]
fn spawn_after_runtime_exit_panics() {
    // Context must not leak out of block_on, even after a panic inside it.
    quiet_misuse_panics();
    let rt = current_thread();
    let r = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { panic!("{EXPECTED_PANIC} inside block_on") })
    }));
    assert!(r.is_err());
    assert!(
        Handle::try_current().is_err(),
        "context leaked after a panic in block_on"
    );
    let msg = panic_text(|| zokio::spawn(async {}));
    assert_names_runtime(&msg, "zokio::spawn after block_on");
    // The runtime is still usable.
    assert_eq!(
        rt.block_on(async { zokio::spawn(async { 2 }).await.unwrap() }),
        2
    );
}

fn assert_mentions_block_on(msg: &str, what: &str) {
    assert!(
        msg.contains("block_on"),
        "{what}: panic message should mention block_on, got: {msg:?}"
    );
}

#[test]
fn block_on_inside_task_panics() {
    quiet_misuse_panics();
    timed(|| {
        for (name, rt) in flavors_named() {
            // Uncaught: the task fails with a panic JoinError.
            let h = rt.spawn(async {
                Handle::current().block_on(async { 1 });
            });
            let err = rt.block_on(h).expect_err("nested block_on must panic");
            assert!(err.is_panic(), "{name}: {err:?}");
            let msg = panic_message(&*err.into_panic()).expect("string payload");
            assert_mentions_block_on(&msg, name);

            // Caught inside the task: the task can carry on.
            let h = rt.spawn(async {
                let handle = Handle::current();
                let r = catch_unwind(AssertUnwindSafe(|| handle.block_on(async { 1 })));
                let msg = match r {
                    Ok(_) => panic!("nested block_on returned"),
                    Err(p) => panic_message(&*p).unwrap_or_default(),
                };
                let v = zokio::spawn(async { 5 }).await.unwrap();
                (msg, v)
            });
            let (msg, v) = rt.block_on(h).unwrap();
            assert_mentions_block_on(&msg, name);
            assert_eq!(v, 5, "{name}");
            // Runtime still healthy.
            assert_eq!(rt.block_on(rt.spawn(async { 9 })).unwrap(), 9, "{name}");
        }
    })
}

#[test]
fn block_on_inside_block_on_panics() {
    quiet_misuse_panics();
    timed(|| {
        for (name, rt) in flavors_named() {
            let msg = rt.block_on(async {
                let r = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { 1 })));
                match r {
                    Ok(_) => None,
                    Err(p) => Some(panic_message(&*p).unwrap_or_default()),
                }
            });
            let msg = msg.unwrap_or_else(|| panic!("{name}: nested block_on returned"));
            assert_mentions_block_on(&msg, name);
            assert_eq!(
                rt.block_on(async { zokio::spawn(async { 3 }).await.unwrap() }),
                3
            );
        }
    })
}

#[test]
fn block_on_of_another_runtime_inside_task_panics() {
    quiet_misuse_panics();
    timed(|| {
        for (name, rt) in flavors_named() {
            let other = current_thread();
            let other_handle = other.handle().clone();
            let h = rt.spawn(async move {
                let r = catch_unwind(AssertUnwindSafe(|| other_handle.block_on(async { 1 })));
                r.err().map(|p| panic_message(&*p).unwrap_or_default())
            });
            let msg = rt.block_on(h).unwrap();
            let msg = msg.unwrap_or_else(|| {
                panic!("{name}: block_on of another runtime inside a task returned")
            });
            assert_mentions_block_on(&msg, name);
        }
    })
}

#[test]
fn enter_guards_nest() {
    let a = current_thread();
    let b = multi_thread(1);
    {
        let _ga = a.enter();
        {
            let _gb = b.enter();
            let f = Handle::current().runtime_flavor();
            assert!(matches!(f, zokio::runtime::RuntimeFlavor::MultiThread));
        }
        let f = Handle::current().runtime_flavor();
        assert!(matches!(f, zokio::runtime::RuntimeFlavor::CurrentThread));
    }
    assert!(Handle::try_current().is_err());
}

#[test]
fn enter_guards_dropped_out_of_order_panic_with_tokios_message() {
    quiet_panics_with(&["dropped out of order"]);
    let rt = common::current_thread();
    let other = common::multi_thread(1);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _first = rt.enter();
        let second = other.enter();
        let third = rt.enter();
        drop(second);
        drop(third);
    }));
    let message = panic_message(&*outcome.unwrap_err()).unwrap();
    assert!(
        message.starts_with("`EnterGuard` values dropped out of order"),
        "{message}"
    );
    // Nested in order: fine, and the right runtime is current after each drop.
    let outer = rt.enter();
    {
        let _inner = other.enter();
        assert_eq!(zokio::runtime::Handle::current().id(), other.handle().id());
    }
    assert_eq!(zokio::runtime::Handle::current().id(), rt.handle().id());
    drop(outer);
}

#[test]
fn join_error_debug_is_tokios() {
    quiet_panics_with(&["Format-args payload"]);
    let rt = common::current_thread();
    let (panicked, cancelled) = rt.block_on(async {
        let panicked = zokio::spawn(async {
            let value = 1234;
            panic!("Format-args payload: {value}")
        })
        .await
        .unwrap_err();
        let pending = zokio::spawn(std::future::pending::<()>());
        pending.abort();
        (panicked, pending.await.unwrap_err())
    });
    let text = format!("{panicked:?}");
    assert!(text.starts_with("JoinError::Panic(Id("), "{text}");
    assert!(
        text.ends_with("), \"Format-args payload: 1234\", ...)"),
        "{text}"
    );
    let text = format!("{cancelled:?}");
    assert!(
        text.starts_with("JoinError::Cancelled(Id(") && text.ends_with("))"),
        "{text}"
    );
}
