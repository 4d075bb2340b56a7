//! Runtime construction: every `Builder` option, rejection of invalid options
//! (`worker_threads(0)`, `global_queue_interval(0)`, `max_blocking_threads(0)`),
//! thread naming, thread start/stop hooks, worker stack size, `Runtime::INFO`,
//! runtimes built from a user-defined `zokio::Config`, and runtime ids.

mod common;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use zokio::runtime::{Builder, Runtime, RuntimeFlavor};

fn build_err(builder: &mut Builder, what: &str) -> io::Error {
    match builder.build() {
        Ok(_) => panic!("{what}: build() must fail"),
        Err(e) => e,
    }
}

fn assert_invalid_input(err: &io::Error, option: &str, what: &str) {
    assert_eq!(
        err.kind(),
        io::ErrorKind::InvalidInput,
        "{what}: wrong error kind ({err})"
    );
    assert!(
        err.to_string().contains(option),
        "{what}: error message must name `{option}`, got: {err}"
    );
}

#[test]
fn every_option_is_accepted() {
    timed(|| {
        for (name, mut builder) in builders() {
            builder
                .thread_name("zokio-opts")
                .thread_stack_size(4 * 1024 * 1024)
                .on_thread_start(|| {})
                .on_thread_stop(|| {})
                .global_queue_interval(17)
                .event_interval(5)
                .max_blocking_threads(8)
                .thread_keep_alive(Duration::from_millis(500))
                .enable_all();
            if name != FLAVOR_NAMES[1] {
                builder.worker_threads(3);
            }
            let rt = match builder.build() {
                Ok(rt) => rt,
                Err(e) => panic!("{name}: build() with valid options failed: {e}"),
            };
            let out = rt.block_on(async {
                let a = zokio::spawn(async { 20 });
                let b = zokio::task::spawn_blocking(|| 22);
                a.await.unwrap() + b.await.unwrap()
            });
            assert_eq!(out, 42, "{name}");
        }
    })
}

#[test]
fn runtime_new_and_default_builders_work() {
    timed(|| {
        let rt = Runtime::new().expect("Runtime::new");
        assert!(matches!(
            rt.handle().runtime_flavor(),
            RuntimeFlavor::MultiThread
        ));
        assert_eq!(
            rt.block_on(async { zokio::spawn(async { 1 }).await.unwrap() }),
            1
        );
        drop(rt);

        let rt = Builder::new_multi_thread()
            .build()
            .expect("default multi_thread");
        assert_eq!(rt.block_on(rt.spawn(async { 2 })).unwrap(), 2);
        let rt = Builder::new_current_thread()
            .build()
            .expect("default current_thread");
        assert!(matches!(
            rt.handle().runtime_flavor(),
            RuntimeFlavor::CurrentThread
        ));
        assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
        let rt = Builder::new_thread_per_core()
            .build()
            .expect("default thread_per_core");
        assert!(matches!(
            rt.handle().runtime_flavor(),
            RuntimeFlavor::ThreadPerCore
        ));
        assert_eq!(rt.block_on(rt.spawn(async { 4 })).unwrap(), 4);
    })
}

#[test]
fn worker_threads_zero_is_rejected() {
    let mut mt = Builder::new_multi_thread();
    mt.worker_threads(0);
    let err = build_err(&mut mt, "multi_thread worker_threads(0)");
    assert_invalid_input(&err, "worker_threads", "multi_thread worker_threads(0)");

    let mut tpc = Builder::new_thread_per_core();
    tpc.worker_threads(0);
    let err = build_err(&mut tpc, "thread_per_core worker_threads(0)");
    assert_invalid_input(&err, "worker_threads", "thread_per_core worker_threads(0)");
}

#[test]
fn global_queue_interval_zero_is_rejected() {
    for (name, mut builder) in builders() {
        builder.global_queue_interval(0);
        let what = format!("{name} global_queue_interval(0)");
        let err = build_err(&mut builder, &what);
        assert_invalid_input(&err, "global_queue_interval", &what);
    }
}

#[test]
fn max_blocking_threads_zero_is_rejected() {
    for (name, mut builder) in builders() {
        builder.max_blocking_threads(0);
        let what = format!("{name} max_blocking_threads(0)");
        let err = build_err(&mut builder, &what);
        assert_invalid_input(&err, "max_blocking_threads", &what);
    }
}

#[test]
fn thread_name_is_visible_inside_tasks_multi_thread() {
    timed(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("zokio-named-mt")
            .build()
            .unwrap();
        let handles: Vec<_> = (0..16)
            .map(|_| rt.spawn(async { std::thread::current().name().map(String::from) }))
            .collect();
        for h in handles {
            let name = futures::executor::block_on(h).unwrap();
            assert_eq!(name.as_deref(), Some("zokio-named-mt"));
        }
    })
}

#[test]
fn thread_name_is_visible_inside_tasks_thread_per_core() {
    timed(|| {
        let rt = Builder::new_thread_per_core()
            .worker_threads(2)
            .thread_name("zokio-named-tpc")
            .build()
            .unwrap();
        let handles: Vec<_> = (0..16)
            .map(|_| rt.spawn(async { std::thread::current().name().map(String::from) }))
            .collect();
        for h in handles {
            let name = futures::executor::block_on(h).unwrap();
            let name = name.expect("worker thread has no name");
            assert!(
                name.starts_with("zokio-named-tpc"),
                "worker thread name {name:?} does not use thread_name"
            );
        }
    })
}

fn hook_counts(mut builder: Builder, workers: usize, what: &str) {
    let starts = Arc::new(AtomicUsize::new(0));
    let stops = Arc::new(AtomicUsize::new(0));
    let (s1, s2) = (starts.clone(), stops.clone());
    let rt = builder
        .worker_threads(workers)
        .on_thread_start(move || {
            s1.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            s2.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    // Make sure the workers are up and running tasks.
    let total: usize = rt.block_on(async {
        let hs: Vec<_> = (0..64).map(|i| zokio::spawn(async move { i })).collect();
        let mut total = 0;
        for h in hs {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..64).sum::<usize>());
    drop(rt);
    assert_eq!(
        starts.load(Ordering::SeqCst),
        workers,
        "{what}: on_thread_start calls"
    );
    assert_eq!(
        stops.load(Ordering::SeqCst),
        workers,
        "{what}: on_thread_stop calls"
    );
}

#[test]
fn thread_start_stop_hooks_match_worker_count() {
    timed(|| {
        hook_counts(Builder::new_multi_thread(), 3, "multi_thread(3)");
        hook_counts(Builder::new_multi_thread(), 1, "multi_thread(1)");
        hook_counts(Builder::new_thread_per_core(), 2, "thread_per_core(2)");
    })
}

/// Uses ~12 MiB of stack: more than a default 2 MiB (or 8 MiB) thread stack.
#[inline(never)]
fn big_stack_frame() -> u64 {
    let mut buf = [0u8; 12 * 1024 * 1024];
    let buf = std::hint::black_box(&mut buf);
    for (i, b) in buf.iter_mut().enumerate().step_by(4096) {
        *b = (i % 251) as u8;
    }
    let buf = std::hint::black_box(buf);
    buf.iter().step_by(4096).map(|&b| b as u64).sum()
}

const STACK_CHILD_ENV: &str = "ZOKIO_TEST_STACK_CHILD";

fn big_stack_on_worker(mut builder: Builder) {
    let rt = builder
        .worker_threads(2)
        .thread_name("zokio-bigstack")
        .thread_stack_size(64 * 1024 * 1024)
        .build()
        .unwrap();
    // Awaited from outside the runtime so the task surely runs on a worker.
    let h = rt.spawn(async {
        let name = std::thread::current().name().map(String::from);
        (name, big_stack_frame())
    });
    let (name, sum) = futures::executor::block_on(h).unwrap();
    assert!(name.unwrap_or_default().starts_with("zokio-bigstack"));
    let expected: u64 = (0..12 * 1024 * 1024usize)
        .step_by(4096)
        .map(|i| (i % 251) as u64)
        .sum();
    assert_eq!(sum, expected);
}

/// A stack overflow aborts the whole process, so the workload runs in a child
/// copy of this test binary and the parent checks that it exited cleanly.
fn stack_test(test_name: &str, builder: fn() -> Builder) {
    if std::env::var_os(STACK_CHILD_ENV).is_some() {
        big_stack_on_worker(builder());
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
        .env(STACK_CHILD_ENV, "1")
        .output()
        .expect("re-running the test binary");
    assert!(
        out.status.success(),
        "task with a 12 MiB stack frame on a worker with thread_stack_size(64 MiB) failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "child did not run the test: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn thread_stack_size_applies_to_workers_multi_thread() {
    stack_test(
        "thread_stack_size_applies_to_workers_multi_thread",
        Builder::new_multi_thread,
    );
}

#[test]
fn thread_stack_size_applies_to_workers_thread_per_core() {
    stack_test(
        "thread_stack_size_applies_to_workers_thread_per_core",
        Builder::new_thread_per_core,
    );
}

struct MyConfig;
impl zokio::Config for MyConfig {
    type Scheduler = zokio::config::CurrentThread;
    type Driver = zokio::config::AutoDriver;
    type Memory = zokio::config::System;
}

struct MyMultiConfig;
impl zokio::Config for MyMultiConfig {
    type Scheduler = zokio::config::MultiThread;
    type Driver = zokio::config::AutoDriver;
    type Memory = zokio::config::System;
    const WORKER_THREADS: usize = 2;
}

#[test]
fn runtime_info_is_sane() {
    let info: zokio::RuntimeInfo = Runtime::<zokio::DefaultConfig>::INFO;
    assert!(!info.scheduler.is_empty(), "scheduler name is empty");
    assert!(!info.memory.is_empty(), "memory strategy name is empty");
    assert!(info.task_header_bytes > 0, "task header cannot be 0 bytes");
    assert!(
        info.task_header_bytes <= 48,
        "task header is {} bytes (> 48)",
        info.task_header_bytes
    );

    let mine = Runtime::<MyConfig>::INFO;
    let multi = Runtime::<MyMultiConfig>::INFO;
    assert!(!mine.scheduler.is_empty());
    assert!(!multi.scheduler.is_empty());
    assert!(mine.task_header_bytes <= 48);
    assert!(multi.task_header_bytes <= 48);
    assert_ne!(
        mine.scheduler, multi.scheduler,
        "CurrentThread and MultiThread configs report the same scheduler name"
    );
}

#[test]
fn user_defined_current_thread_config() {
    timed(|| {
        let rt = Runtime::<MyConfig>::with_config().expect("with_config");
        assert!(matches!(
            rt.handle().runtime_flavor(),
            RuntimeFlavor::CurrentThread
        ));
        let me = std::thread::current().id();
        let (sum, ids) = rt.block_on(async {
            let hs: Vec<_> = (0..100u64)
                .map(|i| zokio::spawn(async move { (i, std::thread::current().id()) }))
                .collect();
            let mut sum = 0;
            let mut ids = Vec::new();
            for h in hs {
                let (i, id) = h.await.unwrap();
                sum += i;
                ids.push(id);
            }
            (sum, ids)
        });
        assert_eq!(sum, 4950);
        assert!(
            ids.iter().all(|&id| id == me),
            "current-thread tasks must run on the block_on thread"
        );
    })
}

#[test]
fn user_defined_multi_thread_config() {
    timed(|| {
        let rt = Runtime::<MyMultiConfig>::with_config().expect("with_config");
        assert!(matches!(
            rt.handle().runtime_flavor(),
            RuntimeFlavor::MultiThread
        ));
        let me = std::thread::current().id();
        let h = rt.spawn(async { std::thread::current().id() });
        let id = futures::executor::block_on(h).unwrap();
        assert_ne!(id, me, "multi-thread task ran on the caller thread");
        assert_eq!(
            rt.block_on(async { zokio::spawn(async { 5 }).await.unwrap() }),
            5
        );
    })
}

#[test]
fn every_runtime_has_an_id_of_its_own_that_all_its_handles_share() {
    let mut seen = std::collections::HashSet::new();
    for (name, rt) in flavors_named() {
        let id = rt.handle().id();
        assert!(seen.insert(id), "{name}: {id} was another runtime's id");
        assert_eq!(rt.handle().clone().id(), id, "{name}: a clone");
        let (in_block_on, in_task) = rt.block_on(async {
            let in_task = zokio::spawn(async { zokio::runtime::Handle::current().id() });
            (
                zokio::runtime::Handle::current().id(),
                in_task.await.unwrap(),
            )
        });
        assert_eq!((in_block_on, in_task), (id, id), "{name}: from inside");
        let shown = id.to_string();
        assert!(
            shown.parse::<u64>().is_ok_and(|n| n > 0),
            "{name}: Display shows the number, not {shown:?}"
        );
    }
    // Unlike tokio's, an id is not handed out again once its runtime is gone.
    let gone = current_thread().handle().id();
    assert!(seen.insert(gone));
    assert_ne!(current_thread().handle().id(), gone);
}

#[test]
fn park_and_unpark_hooks_run_around_each_sleep_on_every_flavour() {
    for (name, mut builder) in common::builders() {
        let parks = Arc::new(AtomicUsize::new(0));
        let unparks = Arc::new(AtomicUsize::new(0));
        let rt = {
            let (parks, unparks) = (parks.clone(), unparks.clone());
            builder
                .on_thread_park(move || {
                    parks.fetch_add(1, Ordering::SeqCst);
                })
                .on_thread_unpark(move || {
                    unparks.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap()
        };
        rt.block_on(async {
            // Nothing to run while the timer waits: the runtime's threads sleep.
            zokio::spawn(zokio::time::sleep(std::time::Duration::from_millis(20)))
                .await
                .unwrap();
        });
        drop(rt);
        let (parks, unparks) = (parks.load(Ordering::SeqCst), unparks.load(Ordering::SeqCst));
        assert!(parks > 0, "{name}: no sleep was announced");
        assert_eq!(parks, unparks, "{name}: every sleep ends with a wake-up");
    }
}
