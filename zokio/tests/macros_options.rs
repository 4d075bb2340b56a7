//! The options `#[zokio::main]` and `#[zokio::test]` take from tokio, each run for
//! real: `flavor = "local"` (a `LocalRuntime`, on which `spawn_local` works), `name`
//! on every flavor, `start_paused` on the local flavor, `crate`, and option names in
//! any case, as tokio allows. (Flavors, `worker_threads` and `start_paused` on the
//! current-thread flavor are in `macros.rs`; the rejections are unit tests of the
//! macro's parser, in `zokio-macros`.)

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use zokio::runtime::{Handle, RuntimeFlavor};

#[zokio::test(flavor = "local")]
async fn local_flavor_runs_tasks_that_are_not_send() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    let seen = Rc::new(Cell::new(0));
    let task = zokio::task::spawn_local({
        let seen = seen.clone();
        async move {
            zokio::task::yield_now().await;
            seen.set(5);
        }
    });
    task.await.unwrap();
    assert_eq!(seen.get(), 5);
    // Ordinary tasks run there too.
    assert_eq!(zokio::spawn(async { 6 }).await.unwrap(), 6);
}

#[zokio::main(flavor = "local")]
async fn local_main(x: u32) -> u32 {
    let x = Rc::new(x);
    zokio::task::spawn_local(async move { *x * 2 })
        .await
        .unwrap()
}

#[test]
fn main_with_the_local_flavor() {
    assert_eq!(local_main(21), 42);
}

#[zokio::test(flavor = "local", start_paused = true)]
async fn local_flavor_with_a_paused_clock() {
    let real = std::time::Instant::now();
    let virtual_start = zokio::time::Instant::now();
    zokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(virtual_start.elapsed() >= Duration::from_secs(3600));
    assert!(
        real.elapsed() < common::HANG_GUARD,
        "a paused clock must not wait in real time (took {:?})",
        real.elapsed()
    );
}

#[zokio::test(start_paused = false)]
async fn start_paused_false_keeps_the_real_clock() {
    let real = std::time::Instant::now();
    zokio::time::sleep(Duration::from_millis(20)).await;
    assert!(real.elapsed() >= Duration::from_millis(20));
}

#[zokio::test(name = "named-current-thread")]
async fn name_on_the_current_thread_flavor() {
    assert_eq!(Handle::current().name(), Some("named-current-thread"));
}

#[zokio::test(
    flavor = "multi_thread",
    worker_threads = 1,
    name = "named-multi-thread"
)]
async fn name_on_the_multi_thread_flavor() {
    let name = zokio::spawn(async { Handle::current().name().map(str::to_owned) });
    assert_eq!(name.await.unwrap().as_deref(), Some("named-multi-thread"));
}

#[zokio::test(flavor = "thread_per_core", worker_threads = 1, name = "named-tpc")]
async fn name_on_the_thread_per_core_flavor() {
    assert_eq!(Handle::current().name(), Some("named-tpc"));
}

#[zokio::test(flavor = "local", name = "named-local")]
async fn name_on_the_local_flavor() {
    assert_eq!(Handle::current().name(), Some("named-local"));
}

#[zokio::main(name = "named-main")]
async fn named_main() -> Option<String> {
    Handle::current().name().map(str::to_owned)
}

#[test]
fn name_on_main() {
    assert_eq!(named_main().as_deref(), Some("named-main"));
}

#[zokio::test]
async fn unnamed_by_default() {
    assert_eq!(Handle::current().name(), None);
}

/// Zokio under another name, as a crate that re-exports it would offer it.
mod reexport {
    pub use zokio as runtime_crate;
}

#[zokio::test(crate = "crate::reexport::runtime_crate", flavor = "local")]
async fn crate_option_with_the_local_flavor() {
    assert_eq!(zokio::spawn(async { 1 }).await.unwrap(), 1);
}

#[zokio::test(FLAVOR = "multi_thread", Worker_Threads = 1)]
async fn option_names_in_any_case() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::MultiThread
    );
}
