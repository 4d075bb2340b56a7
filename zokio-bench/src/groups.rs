//! The driver groups: what per-worker I/O drivers and timer wheels cost;
//! the local groups: `!Send` tasks on a `LocalSet`, and what Zokio's
//! cooperative `sync` wrappers cost over tokio's bare primitives; and child
//! processes spawned and awaited (`process`).
//!
//! Unlike the scheduler workloads, each group has its own set of contenders
//! (Zokio on a forced driver, tokio with its drivers, the raw io_uring ring)
//! and several figures per run (rates, percentiles), so each is run here:
//! every contender once per round, in an order that rotates from round to
//! round, warm-up rounds discarded, medians reported. This file picks the
//! contenders and sizes and turns samples into rows; the workloads live in
//! `io_workloads`, `timer_workloads`, `wake_workloads`, `local_workloads`
//! and `process_workloads`, and must never
//! know which row they feed.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::Duration;

use zokio::runtime::Driver;

use crate::group_report::{GroupResult, Metric, Row, Series};
use crate::runtimes::{Tokio, Zokio};
use crate::stats::{per_second, percentile, scale_nanos};
use crate::{
    io_workloads, local_workloads, panic_message, process_workloads, timer_workloads,
    wake_workloads, Plan, Watchdog,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    NopRate,
    TimeoutCreate,
    SleepLateness,
    CrossThreadWake,
    LocalSpawn,
    SyncPingPong,
    Process,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::NopRate,
        Group::TimeoutCreate,
        Group::SleepLateness,
        Group::CrossThreadWake,
        Group::LocalSpawn,
        Group::SyncPingPong,
        Group::Process,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::NopRate => "nop_rate",
            Group::TimeoutCreate => "timeout_create",
            Group::SleepLateness => "sleep_lateness",
            Group::CrossThreadWake => "cross_thread_wake",
            Group::LocalSpawn => "local_spawn",
            Group::SyncPingPong => "sync_ping_pong",
            Group::Process => "process",
        }
    }

    /// The groups a name stands for: one group, or `timers` for both timer
    /// groups; empty for an unknown name.
    pub fn expand(name: &str) -> Vec<Group> {
        if name == "timers" {
            return vec![Group::TimeoutCreate, Group::SleepLateness];
        }
        Group::ALL
            .into_iter()
            .filter(|g| g.name() == name)
            .collect()
    }

    pub fn plan(self, quick: bool) -> Plan {
        let (warmup, runs) = match (self, quick) {
            (Group::NopRate, false) => (2, 10),
            (Group::NopRate, true) => (1, 3),
            (Group::TimeoutCreate, false) => (3, 20),
            (Group::TimeoutCreate, true) => (1, 5),
            (Group::SleepLateness, false) => (1, 5),
            (Group::SleepLateness, true) => (1, 3),
            // Five runs of `WakeSizes::per_run` wakes: 100,000 measured in
            // all (10,000 with --quick).
            (Group::CrossThreadWake, _) => (1, 5),
            // A few milliseconds per run.
            (Group::LocalSpawn, false) => (10, 100),
            (Group::LocalSpawn, true) => (3, 20),
            // Tens of milliseconds per run.
            (Group::SyncPingPong, false) => (3, 21),
            (Group::SyncPingPong, true) => (1, 5),
            // About a second per run on two CPUs (1,000 fork/exec/exit/reap).
            (Group::Process, false) => (1, 7),
            (Group::Process, true) => (1, 3),
        };
        Plan { warmup, runs }
    }
}

/// One contender of a group: each call is one run and returns one value per
/// figure the group reports (always the same number, in the same order).
pub struct Entrant<'a> {
    key: &'static str,
    label: String,
    run: Option<Box<dyn FnMut() -> Vec<f64> + 'a>>,
    /// Why it cannot run (its runtime could not be built).
    error: Option<String>,
}

impl<'a> Entrant<'a> {
    /// An entrant that runs on `rt`, or, where that could not be built, a
    /// row of `n/a` with the reason.
    pub fn on<T>(
        key: &'static str,
        label: String,
        rt: &'a io::Result<T>,
        mut f: impl FnMut(&'a T) -> Vec<f64> + 'a,
    ) -> Entrant<'a> {
        match rt {
            Ok(rt) => Entrant {
                key,
                label,
                run: Some(Box::new(move || f(rt))),
                error: None,
            },
            Err(e) => Entrant {
                key,
                label,
                run: None,
                error: Some(format!("could not build the runtime: {e}")),
            },
        }
    }

    pub fn plain(
        key: &'static str,
        label: String,
        f: impl FnMut() -> Vec<f64> + 'a,
    ) -> Entrant<'a> {
        Entrant {
            key,
            label,
            run: Some(Box::new(f)),
            error: None,
        }
    }
}

/// One entrant's measured runs: `figures[i]` holds figure `i` of every run.
pub struct Collected {
    pub key: &'static str,
    pub label: String,
    /// `figures[i]` holds figure `i` of every measured run, in round order.
    pub figures: Vec<Vec<f64>>,
    pub error: Option<String>,
}

fn rounds(
    group: Group,
    entrants: &mut [Entrant<'_>],
    plan: Plan,
    dog: &Watchdog,
) -> Vec<Collected> {
    rounds_named(group.name(), entrants, plan, dog)
}

/// [`rounds`] for any set of entrants, labelled `name` for the watchdog (the
/// memory group runs its scheduler and idle-task rows through here).
pub fn rounds_named(
    name: &str,
    entrants: &mut [Entrant<'_>],
    plan: Plan,
    dog: &Watchdog,
) -> Vec<Collected> {
    let mut out: Vec<Collected> = entrants
        .iter()
        .map(|e| Collected {
            key: e.key,
            label: e.label.clone(),
            figures: Vec::new(),
            error: e.error.clone(),
        })
        .collect();
    let n = entrants.len();
    for round in 0..plan.warmup + plan.runs {
        for k in 0..n {
            let i = (round + k) % n;
            if out[i].error.is_some() {
                continue;
            }
            let Some(run) = entrants[i].run.as_mut() else {
                continue;
            };
            thread::sleep(crate::SETTLE);
            let got = dog.guard(
                || format!("{name} on {}", out[i].label),
                || panic::catch_unwind(AssertUnwindSafe(run)),
            );
            match got {
                Ok(values) if round >= plan.warmup => {
                    let figures = &mut out[i].figures;
                    if figures.len() < values.len() {
                        figures.resize(values.len(), Vec::new());
                    }
                    for (fig, v) in figures.iter_mut().zip(values) {
                        fig.push(v);
                    }
                }
                Ok(_) => {}
                Err(p) => {
                    out[i].figures.clear();
                    out[i].error = Some(panic_message(&*p));
                }
            }
        }
    }
    out
}

fn series(c: &[Collected], key: &str, figure: usize) -> Series {
    let col = c
        .iter()
        .find(|c| c.key == key)
        .unwrap_or_else(|| panic!("no entrant `{key}`"));
    Series {
        label: col.label.clone(),
        samples: col.figures.get(figure).cloned().unwrap_or_default(),
        error: col.error.clone(),
    }
}

pub fn run(group: Group, workers: usize, quick: bool, dog: &Watchdog) -> GroupResult {
    let plan = group.plan(quick);
    let (rows, notes) = match group {
        Group::NopRate => nop_rate(workers, quick, plan, dog),
        Group::TimeoutCreate => timeout_create(workers, quick, plan, dog),
        Group::SleepLateness => sleep_lateness(workers, quick, plan, dog),
        Group::CrossThreadWake => cross_thread_wake(workers, quick, plan, dog),
        Group::LocalSpawn => local_spawn(plan, dog),
        Group::SyncPingPong => sync_ping_pong(quick, plan, dog),
        Group::Process => process(workers, plan, dog),
    };
    GroupResult {
        group,
        warmup: plan.warmup,
        runs: plan.runs,
        rows,
        notes,
    }
}

fn driver_label(rt: &io::Result<Zokio>, asked: &str) -> String {
    match rt {
        Ok(rt) => rt.driver_kind().to_string(),
        Err(_) => asked.to_string(),
    }
}

// ---------------------------------------------------------------- nop_rate

/// Operations per run at depth 1, and per task at depth 64.
struct NopSizes {
    depth1_ops: usize,
    per_task: usize,
}

const NOP_DEPTH: usize = 64;

fn nop_rate(workers: usize, quick: bool, plan: Plan, dog: &Watchdog) -> (Vec<Row>, Vec<String>) {
    let sizes = if quick {
        NopSizes {
            depth1_ops: 20_000,
            per_task: 500,
        }
    } else {
        NopSizes {
            depth1_ops: 200_000,
            per_task: 10_000,
        }
    };
    let d1 = sizes.depth1_ops;
    let d64_ops = NOP_DEPTH * sizes.per_task;
    let per_task = sizes.per_task;

    let ct = Zokio::current_thread(Driver::IoUring);
    let mt = Zokio::with_driver(workers, Driver::IoUring);
    let ep = Zokio::with_driver(workers, Driver::Epoll);
    let rate = |ops: usize, took: Duration| {
        vec![per_second(ops as u64, took.as_nanos() as f64).unwrap_or(0.0)]
    };

    let mut entrants = vec![
        Entrant::plain(
            "raw_d1",
            "raw io-uring, 1 thread, depth 1".into(),
            move || {
                rate(
                    d1,
                    io_workloads::raw_nops(1, 1, d1).expect("raw io_uring nop ring"),
                )
            },
        ),
        Entrant::plain(
            "raw_d64",
            "raw io-uring, 1 thread, depth 64".into(),
            move || {
                rate(
                    d64_ops,
                    io_workloads::raw_nops(1, NOP_DEPTH, d64_ops).expect("raw io_uring nop ring"),
                )
            },
        ),
        Entrant::plain(
            "raw_d64_w",
            format!("raw io-uring, {workers} threads, 64 in flight in all"),
            move || {
                rate(
                    d64_ops,
                    io_workloads::raw_nops(workers, NOP_DEPTH, d64_ops)
                        .expect("raw io_uring nop ring"),
                )
            },
        ),
        Entrant::on(
            "ct_d1",
            "zokio current_thread io_uring, 1 task".into(),
            &ct,
            move |rt| rate(d1, io_workloads::zokio_nops(rt, 1, d1)),
        ),
        Entrant::on(
            "ct_d64",
            "zokio current_thread io_uring, 64 tasks".into(),
            &ct,
            move |rt| rate(d64_ops, io_workloads::zokio_nops(rt, NOP_DEPTH, per_task)),
        ),
        Entrant::on(
            "mt_d1",
            format!("zokio multi_thread({workers}) io_uring, 1 task"),
            &mt,
            move |rt| rate(d1, io_workloads::zokio_nops(rt, 1, d1)),
        ),
        Entrant::on(
            "mt_d64",
            format!("zokio multi_thread({workers}) io_uring, 64 tasks"),
            &mt,
            move |rt| rate(d64_ops, io_workloads::zokio_nops(rt, NOP_DEPTH, per_task)),
        ),
        Entrant::on(
            "ep_d1",
            format!("zokio multi_thread({workers}) epoll, 1 task"),
            &ep,
            move |rt| rate(d1, io_workloads::zokio_nops(rt, 1, d1)),
        ),
        Entrant::on(
            "ep_d64",
            format!("zokio multi_thread({workers}) epoll, 64 tasks"),
            &ep,
            move |rt| rate(d64_ops, io_workloads::zokio_nops(rt, NOP_DEPTH, per_task)),
        ),
    ];
    let c = rounds(Group::NopRate, &mut entrants, plan, dog);
    drop(entrants);

    let vs = |case: String, z: &str, raw: &str, target: &'static str| Row {
        case,
        metric: Metric::Rate,
        zokio: series(&c, z, 0),
        peer: Some(series(&c, raw, 0)),
        ratio_label: "zokio/raw",
        target,
    };
    let rows = vec![
        vs(
            "depth 1: zokio current_thread io_uring (1 task) vs raw ring, 1 thread".into(),
            "ct_d1",
            "raw_d1",
            "zokio/raw >= 0.50",
        ),
        vs(
            format!("depth 1: zokio multi_thread({workers}) io_uring (1 task) vs raw ring, 1 thread"),
            "mt_d1",
            "raw_d1",
            "zokio/raw >= 0.50",
        ),
        vs(
            "depth 64: zokio current_thread io_uring (64 tasks) vs raw ring, 1 thread, 64 in flight"
                .into(),
            "ct_d64",
            "raw_d64",
            "zokio/raw >= 0.50",
        ),
        vs(
            format!(
                "depth 64: zokio multi_thread({workers}) io_uring (64 tasks) vs raw rings, \
                 {workers} threads, 64 in flight in all"
            ),
            "mt_d64",
            "raw_d64_w",
            "zokio/raw >= 0.50",
        ),
        Row {
            case: format!("depth 1: zokio multi_thread({workers}) epoll (1 task)"),
            metric: Metric::Rate,
            zokio: series(&c, "ep_d1", 0),
            peer: None,
            ratio_label: "",
            target: "not comparable: no syscall",
        },
        Row {
            case: format!("depth 64: zokio multi_thread({workers}) epoll (64 tasks)"),
            metric: Metric::Rate,
            zokio: series(&c, "ep_d64", 0),
            peer: None,
            ratio_label: "",
            target: "not comparable: no syscall",
        },
    ];
    let notes = vec![
        format!(
            "{d1} nops per run at depth 1; {NOP_DEPTH} tasks x {per_task} nops at depth 64 \
             (each task awaits `zokio::io::ops::nop()` in a loop); timed from the first spawn \
             until the bench thread sees the last task finish"
        ),
        "raw ring: the io-uring crate with the flags Zokio's rings use (SINGLE_ISSUER, \
         COOP_TASKRUN, TASKRUN_FLAG, dropped where refused), 64 Nop SQEs kept in flight and \
         refilled as they complete, one submit_and_wait(1) per refill; depth 1 is push, \
         submit_and_wait(1), pop"
            .into(),
        format!(
            "fair pairs: one task keeps one ring busy, so depth 1 is held against one raw thread \
             (current_thread is the like-for-like row; multi_thread adds the worker hand-off); \
             at depth 64 current_thread is held against one raw thread and multi_thread({workers}) \
             against {workers} raw threads sharing the 64 in flight (one ring each)"
        ),
        "epoll rows: a nop on the epoll driver completes in user space without any syscall, so \
         they measure the task/operation path only and are not comparable with a ring"
            .into(),
        format!(
            "drivers actually used: current_thread {}, multi_thread {}, epoll row {}",
            driver_label(&ct, "io_uring"),
            driver_label(&mt, "io_uring"),
            driver_label(&ep, "epoll")
        ),
    ];
    (rows, notes)
}

// ---------------------------------------------------------------- timeout_create

/// Times are reported per this many timeouts whatever a run's count.
const TIMEOUT_PER: u64 = 100_000;

fn timeout_create(
    workers: usize,
    quick: bool,
    plan: Plan,
    dog: &Watchdog,
) -> (Vec<Row>, Vec<String>) {
    let n = if quick { 20_000 } else { 100_000 };
    let z = Zokio::with_driver(workers, Driver::Auto);
    let t = Tokio::with_drivers(workers);
    let per = move |took: Duration| {
        vec![scale_nanos(took.as_nanos() as f64, n as u64, TIMEOUT_PER).unwrap_or(0.0)]
    };
    let mut entrants = vec![
        Entrant::on("z_ready", "zokio, inner ready".into(), &z, move |rt| {
            per(timer_workloads::zokio_timeouts(rt, n, false))
        }),
        Entrant::on("t_ready", "tokio, inner ready".into(), &t, move |rt| {
            per(timer_workloads::tokio_timeouts(rt, n, false))
        }),
        Entrant::on(
            "z_reg",
            "zokio, inner pending (registered)".into(),
            &z,
            move |rt| per(timer_workloads::zokio_timeouts(rt, n, true)),
        ),
        Entrant::on(
            "t_reg",
            "tokio, inner pending (registered)".into(),
            &t,
            move |rt| per(timer_workloads::tokio_timeouts(rt, n, true)),
        ),
        Entrant::plain("clock", "std Instant::now()".into(), move || {
            per(timer_workloads::clock_reads(n))
        }),
    ];
    let c = rounds(Group::TimeoutCreate, &mut entrants, plan, dog);
    drop(entrants);
    let rows = vec![
        Row {
            case: "timeout(1 s, ready()) built, polled once (Ready), dropped; time per 100k".into(),
            metric: Metric::Nanos,
            zokio: series(&c, "z_ready", 0),
            peer: Some(series(&c, "t_ready", 0)),
            ratio_label: "tokio/zokio",
            target: "tokio/zokio >= 2",
        },
        Row {
            case: "timeout(1 s, pending()) built, polled once (timer registered), dropped; \
                   time per 100k"
                .into(),
            metric: Metric::Nanos,
            zokio: series(&c, "z_reg", 0),
            peer: Some(series(&c, "t_reg", 0)),
            ratio_label: "tokio/zokio",
            target: "",
        },
        Row {
            case: "reference: one std::time::Instant::now() per timeout (the least a timeout \
                   that reads the clock when built pays); time per 100k"
                .into(),
            metric: Metric::Nanos,
            zokio: series(&c, "clock", 0),
            peer: None,
            ratio_label: "",
            target: "reference",
        },
    ];
    let notes = vec![format!(
        "{n} timeouts per run, all inside one task on a multi_thread({workers}) runtime of each \
         (Zokio on its {} driver, tokio with enable_all), polled through the task's own waker; \
         the registered variant puts each timer in the wheel on its first poll and takes it out \
         again on drop; each future is black_box'ed so the optimiser cannot delete the work. \
         both runtimes read the clock when timeout() is called (the deadline counts from the \
         call), so one clock read (the reference row) is the floor of the ready path",
        driver_label(&z, "auto")
    )];
    (rows, notes)
}

// ---------------------------------------------------------------- sleep_lateness

const SLEEP_FOR: Duration = Duration::from_millis(1);

fn sleep_lateness(
    workers: usize,
    quick: bool,
    plan: Plan,
    dog: &Watchdog,
) -> (Vec<Row>, Vec<String>) {
    let (tasks, sleeps) = if quick { (1_000, 20) } else { (10_000, 100) };
    let z = Zokio::with_driver(workers, Driver::Auto);
    let t = Tokio::with_drivers(workers);
    let figures = |(mut late, wall): (Vec<u32>, Duration)| {
        late.sort_unstable();
        let p = |q| percentile(&late, q).map_or(f64::NAN, f64::from);
        vec![p(50.0), p(99.0), wall.as_nanos() as f64]
    };
    let mut entrants = vec![
        Entrant::on("zokio", "zokio".into(), &z, move |rt| {
            figures(timer_workloads::lateness(
                rt,
                tasks,
                sleeps,
                SLEEP_FOR,
                zokio::time::sleep,
            ))
        }),
        Entrant::on("tokio", "tokio".into(), &t, move |rt| {
            figures(timer_workloads::lateness(
                rt,
                tasks,
                sleeps,
                SLEEP_FOR,
                tokio::time::sleep,
            ))
        }),
    ];
    let c = rounds(Group::SleepLateness, &mut entrants, plan, dog);
    drop(entrants);
    let row = |case: &str, figure: usize, target: &'static str| Row {
        case: case.into(),
        metric: Metric::Nanos,
        zokio: series(&c, "zokio", figure),
        peer: Some(series(&c, "tokio", figure)),
        ratio_label: "tokio/zokio",
        target,
    };
    let rows = vec![
        row("sleep(1 ms) lateness p50", 0, ""),
        row("sleep(1 ms) lateness p99", 1, "tokio/zokio >= 1"),
        row("wall time, all tasks", 2, ""),
    ];
    let notes = vec![format!(
        "{tasks} tasks x {sleeps} sleeps of 1 ms, spawned at once on a multi_thread({workers}) \
         runtime of each (Zokio on its {} driver, tokio with enable_all); lateness = time \
         around each `sleep(1 ms).await` minus 1 ms; percentiles over all {} sleeps of a run",
        driver_label(&z, "auto"),
        tasks * sleeps
    )];
    (rows, notes)
}

// ---------------------------------------------------------------- cross_thread_wake

fn cross_thread_wake(
    workers: usize,
    quick: bool,
    plan: Plan,
    dog: &Watchdog,
) -> (Vec<Row>, Vec<String>) {
    let per_run = if quick { 2_000 } else { 20_000 };
    let z = Zokio::with_driver(workers, Driver::Auto);
    let ze = Zokio::with_driver(workers, Driver::Epoll);
    let t = Tokio::with_drivers(workers);
    let tn = Tokio::new(workers);
    let figures = |mut lat: Vec<u64>| {
        lat.sort_unstable();
        let p = |q| percentile(&lat, q).map_or(f64::NAN, |v| v as f64);
        vec![p(50.0), p(99.0)]
    };
    let z_label = format!("zokio ({})", driver_label(&z, "auto"));
    let mut entrants = vec![
        Entrant::on("zokio", z_label.clone(), &z, move |rt| {
            figures(wake_workloads::wake_latency(rt, per_run))
        }),
        Entrant::on("zokio_epoll", "zokio (epoll)".into(), &ze, move |rt| {
            figures(wake_workloads::wake_latency(rt, per_run))
        }),
        Entrant::on("tokio", "tokio (enable_all)".into(), &t, move |rt| {
            figures(wake_workloads::wake_latency(rt, per_run))
        }),
        Entrant::on("tokio_bare", "tokio (no drivers)".into(), &tn, move |rt| {
            figures(wake_workloads::wake_latency(rt, per_run))
        }),
    ];
    let c = rounds(Group::CrossThreadWake, &mut entrants, plan, dog);
    drop(entrants);
    let row = |case: String, zk: &str, pk: &str, figure: usize| Row {
        case,
        metric: Metric::Nanos,
        zokio: series(&c, zk, figure),
        peer: Some(series(&c, pk, figure)),
        ratio_label: "tokio/zokio",
        target: "< 1 µs (guide)",
    };
    let rows = vec![
        row(
            format!("wake-to-run p50: {z_label} vs tokio (enable_all)"),
            "zokio",
            "tokio",
            0,
        ),
        row(
            format!("wake-to-run p99: {z_label} vs tokio (enable_all)"),
            "zokio",
            "tokio",
            1,
        ),
        row(
            "wake-to-run p50: zokio (epoll) vs tokio (enable_all)".into(),
            "zokio_epoll",
            "tokio",
            0,
        ),
        row(
            "wake-to-run p99: zokio (epoll) vs tokio (enable_all)".into(),
            "zokio_epoll",
            "tokio",
            1,
        ),
        row(
            format!("wake-to-run p50: {z_label} vs tokio (no drivers)"),
            "zokio",
            "tokio_bare",
            0,
        ),
        row(
            format!("wake-to-run p99: {z_label} vs tokio (no drivers)"),
            "zokio",
            "tokio_bare",
            1,
        ),
    ];
    let notes = vec![
        format!(
            "the bench thread wakes one task {per_run} times per run ({} measured in all per \
             contender), ping-pong: it waits until the task is waiting again, sleeps {:?} so the \
             workers go idle in the kernel, reads the clock, calls `waker.wake()`; the task reads \
             the clock when it runs; figures are per-run percentiles",
            per_run * plan.runs,
            wake_workloads::IDLE_GAP
        ),
        format!(
            "multi_thread({workers}) runtimes; tokio (enable_all) parks idle workers in \
             epoll_wait as Zokio parks them in its ring or epoll; tokio (no drivers) parks on a \
             condvar, the cheapest wake there is"
        ),
    ];
    (rows, notes)
}

// ---------------------------------------------------------------- local_spawn

/// The size: a run spawns this many tasks, `--quick` or not.
const LOCAL_TASKS: u64 = 10_000;

fn local_spawn(plan: Plan, dog: &Watchdog) -> (Vec<Row>, Vec<String>) {
    let z = local_workloads::zokio_current_thread();
    let t = local_workloads::tokio_current_thread();
    let rate =
        |took: Duration| vec![per_second(LOCAL_TASKS, took.as_nanos() as f64).unwrap_or(0.0)];
    let mut entrants = vec![
        Entrant::on("zokio", "zokio LocalSet".into(), &z, move |rt| {
            rate(local_workloads::zokio_local_spawn(rt, LOCAL_TASKS))
        }),
        Entrant::on("tokio", "tokio LocalSet".into(), &t, move |rt| {
            rate(local_workloads::tokio_local_spawn(rt, LOCAL_TASKS))
        }),
    ];
    let c = rounds(Group::LocalSpawn, &mut entrants, plan, dog);
    drop(entrants);
    let rows = vec![Row {
        case: format!(
            "{LOCAL_TASKS} !Send tasks spawn_local'ed on a LocalSet, every JoinHandle awaited; \
             tasks/s"
        ),
        metric: Metric::Rate,
        zokio: series(&c, "zokio", 0),
        peer: Some(series(&c, "tokio", 0)),
        ratio_label: "zokio/tokio",
        target: "zokio/tokio >= 1.5",
    }];
    let notes = vec![format!(
        "each run makes a new LocalSet and drives it with `block_on(local.run_until(..))` on a \
         current_thread runtime built once (Zokio on its {} driver, tokio with enable_all); \
         each task captures an Rc clone and returns the shared value plus its index; timed \
         from the first spawn until the last handle's output is in",
        match &z {
            Ok(rt) => rt.driver_kind().to_string(),
            Err(_) => "default".to_string(),
        }
    )];
    (rows, notes)
}

// ---------------------------------------------------------------- sync_ping_pong

fn sync_ping_pong(quick: bool, plan: Plan, dog: &Watchdog) -> (Vec<Row>, Vec<String>) {
    let trips: u64 = if quick { 20_000 } else { 100_000 };
    let z = local_workloads::zokio_current_thread();
    let t = local_workloads::tokio_current_thread();
    let rate = move |took: Duration| vec![per_second(trips, took.as_nanos() as f64).unwrap_or(0.0)];
    let mut entrants = vec![
        Entrant::on(
            "wrapped",
            "zokio::sync::mpsc on zokio".into(),
            &z,
            move |rt| rate(local_workloads::zokio_wrapped_ping_pong(rt, trips)),
        ),
        Entrant::on("bare", "tokio::sync::mpsc on zokio".into(), &z, move |rt| {
            rate(local_workloads::zokio_bare_ping_pong(rt, trips))
        }),
        Entrant::on(
            "tokio",
            "tokio::sync::mpsc on tokio".into(),
            &t,
            move |rt| rate(local_workloads::tokio_ping_pong(rt, trips)),
        ),
    ];
    let c = rounds(Group::SyncPingPong, &mut entrants, plan, dog);
    drop(entrants);
    let row = |case: &str, zk: &str, pk: &str, label: &'static str, target: &'static str| Row {
        case: case.into(),
        metric: Metric::Rate,
        zokio: series(&c, zk, 0),
        peer: Some(series(&c, pk, 0)),
        ratio_label: label,
        target,
    };
    let rows = vec![
        row(
            "round trips/s: zokio::sync::mpsc (cooperative wrappers) vs tokio::sync::mpsc, \
             both on zokio",
            "wrapped",
            "bare",
            "wrappers/bare",
            "wrappers/bare >= 0.97",
        ),
        row(
            "round trips/s: zokio::sync::mpsc on zokio vs tokio::sync::mpsc on tokio",
            "wrapped",
            "tokio",
            "zokio/tokio",
            "",
        ),
        row(
            "round trips/s: tokio::sync::mpsc on zokio vs on tokio (the runtimes alone)",
            "bare",
            "tokio",
            "zokio/tokio",
            "",
        ),
    ];
    let notes = vec![format!(
        "{trips} round trips per run between two spawned tasks over two bounded channels of \
         capacity 1 (the pinger sends, the ponger sends it back), on current_thread runtimes \
         built once (Zokio on its {} driver, tokio with enable_all); the pinger times its own \
         loop; tokio's bare mpsc spends tokio's budget, which never runs out outside tokio",
        match &z {
            Ok(rt) => rt.driver_kind().to_string(),
            Err(_) => "default".to_string(),
        }
    )];
    (rows, notes)
}

// ---------------------------------------------------------------- process

/// Children spawned and awaited per run, and how many are in flight at once.
const SPAWNS: u64 = 1_000;
const SPAWNS_AT_ONCE: usize = 64;

fn process(workers: usize, plan: Plan, dog: &Watchdog) -> (Vec<Row>, Vec<String>) {
    let z = process_workloads::zokio_runtime(workers);
    let t = process_workloads::tokio_runtime(workers);
    let figures = |m: process_workloads::Measured| {
        vec![
            per_second(SPAWNS, m.took.as_nanos() as f64).unwrap_or(0.0),
            m.cpu.as_nanos() as f64 / SPAWNS as f64,
            m.switches as f64 / SPAWNS as f64,
        ]
    };
    let mut entrants = vec![
        Entrant::on("zokio", "zokio::process".into(), &z, move |rt| {
            figures(process_workloads::zokio_spawn_wait(
                rt,
                SPAWNS,
                SPAWNS_AT_ONCE,
            ))
        }),
        Entrant::on("tokio", "tokio::process".into(), &t, move |rt| {
            figures(process_workloads::tokio_spawn_wait(
                rt,
                SPAWNS,
                SPAWNS_AT_ONCE,
            ))
        }),
    ];
    let c = rounds(Group::Process, &mut entrants, plan, dog);
    drop(entrants);
    let row = |case: &str, metric: Metric, figure: usize, label: &'static str| Row {
        case: case.into(),
        metric,
        zokio: series(&c, "zokio", figure),
        peer: Some(series(&c, "tokio", figure)),
        ratio_label: label,
        target: "",
    };
    let rows = vec![
        row("spawns/s", Metric::Rate, 0, "zokio/tokio"),
        row("CPU time per spawn", Metric::Nanos, 1, "tokio/zokio"),
        row(
            "context switches per spawn",
            Metric::Count,
            2,
            "tokio/zokio",
        ),
    ];
    let notes = vec![format!(
        "{SPAWNS} spawn-and-wait of {} per run (`Command::status`), {SPAWNS_AT_ONCE} in flight \
         at once (each of {SPAWNS_AT_ONCE} tasks takes the next until all are done), on \
         multi-thread runtimes of {workers} workers built once (Zokio on its {} driver, with \
         native pidfd waiting; tokio with enable_all, its process support on); CPU time and \
         context switches are this process's over the run (every thread, children excluded)",
        process_workloads::PROGRAM,
        match &z {
            Ok(rt) => rt.driver_kind().to_string(),
            Err(_) => "default".to_string(),
        }
    )];
    (rows, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for g in Group::ALL {
            assert_eq!(Group::expand(g.name()), vec![g]);
        }
        assert_eq!(
            Group::expand("timers"),
            vec![Group::TimeoutCreate, Group::SleepLateness]
        );
        assert!(Group::expand("nope").is_empty());
    }

    #[test]
    fn plans_measure_something() {
        for g in Group::ALL {
            for quick in [false, true] {
                assert!(g.plan(quick).runs >= 3, "{g:?}");
            }
        }
    }

    #[test]
    fn rounds_rotate_collect_and_survive_panics() {
        let dog = Watchdog::start();
        let order = std::cell::RefCell::new(Vec::new());
        let mut entrants = vec![
            Entrant::plain("a", "a".into(), || {
                order.borrow_mut().push('a');
                vec![1.0, 10.0]
            }),
            Entrant::plain("b", "b".into(), || {
                order.borrow_mut().push('b');
                vec![2.0, 20.0]
            }),
            Entrant::plain("c", "c".into(), || panic!("broken")),
        ];
        let plan = Plan { warmup: 1, runs: 2 };
        let c = rounds(Group::NopRate, &mut entrants, plan, &dog);
        drop(entrants);
        // Round 0 starts with a, round 1 with b, round 2 with c (which has
        // failed, so a follows).
        assert_eq!(order.into_inner(), vec!['a', 'b', 'b', 'a', 'a', 'b']);
        assert_eq!(series(&c, "a", 0).samples, vec![1.0, 1.0]);
        assert_eq!(series(&c, "b", 1).samples, vec![20.0, 20.0]);
        let broken = series(&c, "c", 0);
        assert!(broken.samples.is_empty());
        assert_eq!(broken.error.as_deref(), Some("broken"));
    }

    #[test]
    fn unbuilt_runtime_is_reported() {
        let rt: io::Result<()> = Err(io::Error::other("no ring"));
        let e = Entrant::on("x", "x".into(), &rt, |_| vec![]);
        assert!(e.run.is_none());
        assert!(e.error.unwrap().contains("no ring"));
    }
}
