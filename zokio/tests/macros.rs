//! `#[zokio::main]` and `#[zokio::test]` against the real runtime: every flavour, the
//! worker count, return types, and that the body really runs inside the runtime.

mod common;

use zokio::runtime::{Handle, RuntimeFlavor};

#[zokio::test]
async fn test_defaults_to_current_thread() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    assert_eq!(zokio::spawn(async { 5 }).await.unwrap(), 5);
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_multi_thread_with_two_workers() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::MultiThread
    );
    let names: Vec<_> = (0..8)
        .map(|_| zokio::spawn(async { std::thread::current().name().map(str::to_owned) }))
        .collect();
    for name in names {
        assert_eq!(name.await.unwrap().as_deref(), Some("zokio-worker"));
    }
}

#[zokio::test(flavor = "thread_per_core", worker_threads = 2)]
async fn test_thread_per_core() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::ThreadPerCore
    );
    assert!(zokio::spawn(async { zokio::task::try_id().is_some() })
        .await
        .unwrap());
}

#[zokio::test]
async fn test_may_return_a_result() -> Result<(), Box<dyn std::error::Error>> {
    let value = zokio::spawn(async { "7".parse::<u32>() }).await??;
    assert_eq!(value, 7);
    Ok(())
}

#[zokio::main(flavor = "current_thread")]
async fn answer(x: u32) -> u32 {
    zokio::spawn(async move { x * 2 }).await.unwrap()
}

#[test]
fn main_attribute_builds_a_runtime_per_call() {
    assert_eq!(answer(21), 42);
    assert_eq!(answer(4), 8);
}

#[zokio::test(start_paused = true)]
async fn start_paused_jumps_over_long_sleeps() {
    let real = std::time::Instant::now();
    let virtual_start = zokio::time::Instant::now();
    zokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert!(virtual_start.elapsed() >= std::time::Duration::from_secs(3600));
    // Waiting in real time would take the hour; anything short of that is a jump.
    assert!(
        real.elapsed() < common::HANG_GUARD,
        "a paused clock must not wait in real time (took {:?})",
        real.elapsed()
    );
}
