//! Presentation of the memory group: one row per contender and workload (the
//! scheduler workloads, idle bytes per task, echo at 64 connections), the
//! compile-time sizes of the configurations used (`Runtime::<C>::INFO`), and
//! the targets judged hit or miss from the same samples.
//!
//! Reads what was collected; it must never run, time or discard samples.
//! Every ratio is a median over rounds of the round's ratio (the runs of one
//! round sit side by side in time), oriented so that above 1 means the row's
//! contender did better: faster, more round trips, fewer bytes.

use std::fmt::Write as _;
use std::marker::PhantomData;

use serde_json::{json, Map, Value};
use zokio::config::{Adaptive, AutoDriver, MemoryChoice, MultiThread, NumaAware, Pooled, System};
use zokio::runtime::Runtime;
use zokio::RuntimeInfo;

use crate::groups::Collected;
use crate::memory::{
    IdlePart, MemoryResult, TimedPart, CPU_NANOS, IDLE_BYTES, NANOS, POOLED_BYTES, SWITCHES,
};
use crate::net::{self, NetRow};
use crate::report::{fmt_value, samples_json};
use crate::runtimes::MIMALLOC_ROW;
use crate::stats::{ratio, Summary};
use crate::workloads::{Unit, Workload};

const SYSTEM: &str = "zokio-system";
const POOLED: &str = "zokio-pooled";
const NUMA: &str = "zokio-numa";

/// The bounds.
const SPAWN_SPEEDUP: f64 = 1.2;
const IDLE_BYTES_MAX: f64 = 48.0;
const NUMA_WITHIN: f64 = 0.97;
/// What "no regression" allows for noise.
const NO_REGRESSION: f64 = 0.97;

/// The configuration the memory group's Zokio runtimes amount to: the
/// multi-thread scheduler, the automatic driver, memory strategy `M`.
struct MemoryConfig<M>(PhantomData<M>);

impl<M: MemoryChoice> zokio::Config for MemoryConfig<M> {
    type Scheduler = MultiThread;
    type Driver = AutoDriver;
    type Memory = M;
}

/// `Runtime::<C>::INFO` for each contender's configuration.
fn infos() -> [(&'static str, RuntimeInfo); 4] {
    [
        ("zokio-system", Runtime::<MemoryConfig<System>>::INFO),
        ("zokio-pooled", Runtime::<MemoryConfig<Pooled>>::INFO),
        ("zokio-numa", Runtime::<MemoryConfig<NumaAware>>::INFO),
        ("zokio-adaptive", Runtime::<MemoryConfig<Adaptive>>::INFO),
    ]
}

fn find<'a>(c: &'a [Collected], key: &str) -> Option<&'a Collected> {
    c.iter().find(|c| c.key == key && c.error.is_none())
}

fn samples<'a>(c: &'a [Collected], key: &str, figure: usize) -> Option<&'a [f64]> {
    find(c, key)?
        .figures
        .get(figure)
        .map(Vec::as_slice)
        .filter(|s| !s.is_empty())
}

fn median(s: Option<&[f64]>) -> Option<f64> {
    Summary::of(s?).map(|s| s.median)
}

/// The median of the rounds' `num / den`, the rounds paired in order; the
/// ratio of the medians where they do not pair (a contender failed midway).
pub fn paired(num: &[f64], den: &[f64]) -> Option<f64> {
    if num.len() == den.len() && !num.is_empty() {
        let per_round: Vec<f64> = num
            .iter()
            .zip(den)
            .filter_map(|(&n, &d)| ratio(n, d))
            .collect();
        if per_round.len() == num.len() {
            return Summary::of(&per_round).map(|s| s.median);
        }
    }
    ratio(Summary::of(num)?.median, Summary::of(den)?.median)
}

/// How much better `key` did than `base` in a part whose figure is a time
/// or a size (less is better): above 1 means `key` took less.
fn less_is_better(c: &[Collected], key: &str, base: &str, figure: usize) -> Option<f64> {
    paired(samples(c, base, figure)?, samples(c, key, figure)?)
}

/// The same for round trips per second (more is better).
fn echo_speed(row: &NetRow, key: &str, base: &str) -> Option<f64> {
    let rates = |rt: &str| {
        row.contenders
            .iter()
            .find(|c| c.runtime == rt && c.error.is_none())?
            .figures
            .get(net::RATE)
            .map(Vec::as_slice)
    };
    paired(rates(key)?, rates(base)?)
}

fn echo_median(row: &NetRow, key: &str, figure: usize) -> Option<f64> {
    let c = row
        .contenders
        .iter()
        .find(|c| c.runtime == key && c.error.is_none())?;
    median(c.figures.get(figure).map(Vec::as_slice))
}

fn fmt_x(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.2}x"))
}

fn fmt_bytes(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.1} B"))
}

/// One target of the issue, judged.
pub struct Target {
    pub what: String,
    pub goal: String,
    pub value: Option<f64>,
    /// The value as shown, with its unit.
    pub shown: String,
    /// `None` where a figure is missing.
    pub hit: Option<bool>,
}

fn target(
    what: String,
    goal: String,
    value: Option<f64>,
    shown: String,
    ok: impl Fn(f64) -> bool,
) -> Target {
    Target {
        what,
        goal,
        value,
        shown,
        hit: value.map(ok),
    }
}

fn timed_part(r: &MemoryResult, w: Workload) -> Option<&TimedPart> {
    r.timed.iter().find(|t| t.workload == w)
}

fn idle_part(r: &MemoryResult, from: crate::workloads::SpawnFrom) -> Option<&IdlePart> {
    r.idle.iter().find(|p| p.from == from)
}

/// The worst (smallest) of a list of named ratios, with its name.
fn worst(list: Vec<(String, Option<f64>)>) -> (Option<f64>, String) {
    let mut missing = Vec::new();
    let mut low: Option<(f64, String)> = None;
    for (name, v) in list {
        match v {
            None => missing.push(name),
            Some(v) if low.as_ref().is_none_or(|(l, _)| v < *l) => low = Some((v, name)),
            Some(_) => {}
        }
    }
    match (low, missing.is_empty()) {
        (Some((v, name)), true) => (Some(v), format!("{v:.2}x (worst: {name})")),
        (Some((v, name)), false) => (
            None,
            format!("{v:.2}x (worst: {name}); n/a for {}", missing.join(", ")),
        ),
        (None, _) => (None, "n/a".into()),
    }
}

/// The targets, judged from this run's samples.
pub fn targets(r: &MemoryResult) -> Vec<Target> {
    let mut out = Vec::new();
    for w in [Workload::SpawnManyLocal, Workload::ChainedSpawn] {
        let part = timed_part(r, w);
        let vs = |base: &str| part.and_then(|p| less_is_better(&p.contenders, POOLED, base, NANOS));
        let v = vs(SYSTEM);
        out.push(target(
            format!("{}: zokio-pooled speed vs zokio-system", w.name()),
            format!(">= {SPAWN_SPEEDUP:.2}x"),
            v,
            fmt_x(v),
            |v| v >= SPAWN_SPEEDUP,
        ));
        let v = vs(MIMALLOC_ROW);
        out.push(target(
            format!("{}: zokio-pooled speed vs {MIMALLOC_ROW}", w.name()),
            ">= 1.00x".into(),
            v,
            fmt_x(v),
            |v| v >= 1.0,
        ));
    }
    let from_task = idle_part(r, crate::workloads::SpawnFrom::Task);
    let idle = from_task.and_then(|p| median(samples(&p.contenders, POOLED, IDLE_BYTES)));
    let pools = from_task.and_then(|p| median(samples(&p.contenders, POOLED, POOLED_BYTES)));
    out.push(target(
        "zokio-pooled bytes per idle task (spawned from a task, RSS)".into(),
        format!("<= {IDLE_BYTES_MAX:.0} B"),
        idle,
        format!(
            "{} (the pools alone: {})",
            fmt_bytes(idle),
            fmt_bytes(pools)
        ),
        |v| v <= IDLE_BYTES_MAX,
    ));

    // "No regression elsewhere" and "NumaAware within 3%": every other
    // scheduler workload, the echo rows, and idle tasks spawned from outside.
    let mut pooled_rest = Vec::new();
    let mut numa_all = Vec::new();
    for t in &r.timed {
        let c = &t.contenders;
        if !matches!(
            t.workload,
            Workload::SpawnManyLocal | Workload::ChainedSpawn
        ) {
            pooled_rest.push((
                t.workload.name().to_string(),
                less_is_better(c, POOLED, SYSTEM, NANOS),
            ));
        }
        numa_all.push((
            t.workload.name().to_string(),
            less_is_better(c, NUMA, POOLED, NANOS),
        ));
    }
    for row in &r.echo {
        let name = format!("echo {} at {}", row.case, row.workers.label());
        pooled_rest.push((name.clone(), echo_speed(row, POOLED, SYSTEM)));
        numa_all.push((name, echo_speed(row, NUMA, POOLED)));
    }
    for p in &r.idle {
        let name = format!("idle bytes, spawned from {}", p.from.name());
        if p.from == crate::workloads::SpawnFrom::Outside {
            pooled_rest.push((
                name.clone(),
                less_is_better(&p.contenders, POOLED, SYSTEM, IDLE_BYTES),
            ));
        }
        numa_all.push((
            name,
            less_is_better(&p.contenders, NUMA, POOLED, IDLE_BYTES),
        ));
    }
    let (v, shown) = worst(pooled_rest);
    out.push(target(
        "no regression elsewhere: zokio-pooled vs zokio-system, every other row".into(),
        format!(">= {NO_REGRESSION:.2}x everywhere (3% for noise)"),
        v,
        shown,
        |v| v >= NO_REGRESSION,
    ));
    let (v, shown) = worst(numa_all);
    out.push(target(
        "zokio-numa vs zokio-pooled (one NUMA node), every row".into(),
        format!(">= {NUMA_WITHIN:.2}x everywhere (within 3%)"),
        v,
        shown,
        |v| v >= NUMA_WITHIN,
    ));
    out
}

pub fn table(r: &MemoryResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "memory: scheduler workloads (median per run; speed = the other's time over this \
         one's, above 1 means this contender is faster)\n"
    );
    out.push_str(
        "| workload | contender | median | speed vs zokio-system | speed vs tokio | CPU / run | \
         cs / run |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for t in &r.timed {
        let c = &t.contenders;
        for col in c {
            let key = col.key;
            let _ = writeln!(
                out,
                "| {} | {key} | {} | {} | {} | {} | {} |",
                t.workload.name(),
                fmt_value(median(samples(c, key, NANOS)), Unit::Nanos),
                fmt_x(less_is_better(c, key, SYSTEM, NANOS)),
                fmt_x(less_is_better(c, key, "tokio", NANOS)),
                fmt_value(median(samples(c, key, CPU_NANOS)), Unit::Nanos),
                median(samples(c, key, SWITCHES)).map_or("n/a".into(), |v| format!("{v:.0}")),
            );
        }
    }

    let _ = writeln!(
        out,
        "\nmemory: idle tasks ({} per sample; smaller is better, above 1 means this \
         contender used fewer bytes)\n",
        crate::workloads::IDLE_TASKS
    );
    out.push_str(
        "| spawned from | contender | bytes / idle task (RSS) | pools / idle task | \
         vs zokio-system | vs tokio |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|\n");
    for p in &r.idle {
        let c = &p.contenders;
        for col in c {
            let key = col.key;
            let pooled = median(samples(c, key, POOLED_BYTES));
            let _ = writeln!(
                out,
                "| {} | {key} | {} | {} | {} | {} |",
                p.from.name(),
                fmt_bytes(median(samples(c, key, IDLE_BYTES))),
                if key.starts_with("zokio") {
                    fmt_bytes(pooled)
                } else {
                    "—".into()
                },
                fmt_x(less_is_better(c, key, SYSTEM, IDLE_BYTES)),
                fmt_x(less_is_better(c, key, "tokio", IDLE_BYTES)),
            );
        }
    }

    let _ = writeln!(
        out,
        "\nmemory: echo (round trips per second; above 1 means this contender served more)\n"
    );
    out.push_str(
        "| case | workers | contender | rt/s | vs zokio-system | vs tokio | p50 | p99 | \
         server CPU/rt | server cs/rt | client CPU |\n",
    );
    out.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in &r.echo {
        for c in &row.contenders {
            let key = c.runtime;
            let nanos = |f| fmt_value(echo_median(row, key, f), Unit::Nanos);
            let rate = echo_median(row, key, net::RATE)
                .map_or("n/a".into(), |v| format!("{:.1} k", v / 1e3));
            let _ = writeln!(
                out,
                "| {} | {} | {key} | {rate} | {} | {} | {} | {} | {} | {} | {} |",
                row.case,
                row.workers.label(),
                fmt_x(echo_speed(row, key, SYSTEM)),
                fmt_x(echo_speed(row, key, "tokio")),
                nanos(net::P50),
                nanos(net::P99),
                nanos(net::SERVER_CPU),
                echo_median(row, key, net::SERVER_SWITCHES)
                    .map_or("n/a".into(), |v| format!("{v:.3}")),
                echo_median(row, key, net::CLIENT_BUSY)
                    .map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0)),
            );
        }
    }

    out.push_str(
        "\nmemory: compile-time sizes, Runtime::<C>::INFO for C = (multi_thread, auto driver, \
         <strategy>), the configuration each zokio row is built as\n\n",
    );
    out.push_str(
        "| config | memory | task header | per worker | driver per worker | local queue slots | \
         op cell header | pool segment | smallest pool blocks | pools per idle task (measured) |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
    let from_task = idle_part(r, crate::workloads::SpawnFrom::Task);
    for (name, info) in infos() {
        let pooled = from_task.and_then(|p| median(samples(&p.contenders, name, POOLED_BYTES)));
        let _ = writeln!(
            out,
            "| {name} | {} | {} B | {} B | {} B | {} | {} B | {} KiB | {:?} B | {} |",
            info.memory,
            info.task_header_bytes,
            info.per_worker_bytes,
            info.driver_bytes,
            info.local_queue_capacity,
            info.op_header_bytes,
            info.pool_segment_bytes / 1024,
            &info.pool_block_bytes[..8],
            fmt_bytes(pooled),
        );
    }

    out.push_str("\nmemory: targets\n\n| target | goal | this run | |\n|---|---|---|---|\n");
    for t in targets(r) {
        let verdict = match t.hit {
            Some(true) => "hit",
            Some(false) => "MISS",
            None => "n/a",
        };
        let _ = writeln!(out, "| {} | {} | {} | {verdict} |", t.what, t.goal, t.shown);
    }

    out.push_str("\nnotes:\n");
    for n in &r.notes {
        let _ = writeln!(out, "- memory: {n}");
    }
    let plans: Vec<String> = r
        .timed
        .iter()
        .map(|t| format!("{} {}+{}", t.workload.name(), t.plan.warmup, t.plan.runs))
        .collect();
    let _ = writeln!(
        out,
        "- memory: rounds (warm-up + measured) per contender: {}; idle tasks {} sample(s); \
         echo {}+{}; every contender once per round, in an order that rotates from round to \
         round; ratios are medians of the rounds' ratios",
        plans.join(", "),
        r.idle.first().map_or(0, |p| p.plan.runs),
        r.echo_plan.warmup,
        r.echo_plan.runs
    );
    let _ = writeln!(
        out,
        "- memory: INFO gives the pool's block sizes (a cell takes the smallest block that \
         holds it); the last column is measured: pool growth per idle task spawned from a task"
    );

    let mut errors = Vec::new();
    for t in &r.timed {
        for c in &t.contenders {
            if let Some(e) = &c.error {
                errors.push(format!("{} on {}: {e}", t.workload.name(), c.key));
            }
        }
    }
    for p in &r.idle {
        for c in &p.contenders {
            if let Some(e) = &c.error {
                errors.push(format!("idle from {} on {}: {e}", p.from.name(), c.key));
            }
        }
    }
    for row in &r.echo {
        for c in &row.contenders {
            if let Some(e) = &c.error {
                errors.push(format!(
                    "echo {} at {} on {}: {e}",
                    row.case,
                    row.workers.label(),
                    c.runtime
                ));
            }
        }
    }
    if !errors.is_empty() {
        out.push_str("\nfailed:\n");
        for e in errors {
            let _ = writeln!(out, "- memory {e}");
        }
    }
    out
}

fn collected_json(c: &Collected, figures: &[(&str, usize)]) -> Value {
    let mut entry = Map::new();
    for &(name, i) in figures {
        let s = c.figures.get(i).map_or(&[][..], Vec::as_slice);
        entry.insert(
            name.into(),
            Value::Object(samples_json(s, c.error.as_deref())),
        );
    }
    Value::Object(entry)
}

pub fn json(r: &MemoryResult) -> Value {
    let timed: Vec<Value> = r
        .timed
        .iter()
        .map(|t| {
            let mut contenders = Map::new();
            for c in &t.contenders {
                let mut v = collected_json(
                    c,
                    &[
                        ("ns", NANOS),
                        ("cpu_ns", CPU_NANOS),
                        ("context_switches", SWITCHES),
                    ],
                );
                v["speed_vs_zokio_system"] =
                    json!(less_is_better(&t.contenders, c.key, SYSTEM, NANOS));
                contenders.insert(c.key.into(), v);
            }
            json!({
                "workload": t.workload.name(),
                "warmup": t.plan.warmup,
                "runs": t.plan.runs,
                "contenders": contenders,
            })
        })
        .collect();
    let idle: Vec<Value> = r
        .idle
        .iter()
        .map(|p| {
            let mut contenders = Map::new();
            for c in &p.contenders {
                let mut v = collected_json(
                    c,
                    &[
                        ("bytes_per_task", IDLE_BYTES),
                        ("pooled_bytes_per_task", POOLED_BYTES),
                    ],
                );
                v["smaller_vs_zokio_system"] =
                    json!(less_is_better(&p.contenders, c.key, SYSTEM, IDLE_BYTES));
                contenders.insert(c.key.into(), v);
            }
            json!({
                "spawned_from": p.from.name(),
                "tasks": crate::workloads::IDLE_TASKS,
                "runs": p.plan.runs,
                "contenders": contenders,
            })
        })
        .collect();
    let echo: Vec<Value> = r
        .echo
        .iter()
        .map(|row| {
            let mut contenders = Map::new();
            for c in &row.contenders {
                let figure = |i: usize| {
                    let s = c.figures.get(i).map_or(&[][..], Vec::as_slice);
                    Value::Object(samples_json(s, c.error.as_deref()))
                };
                contenders.insert(
                    c.runtime.into(),
                    json!({
                        "per_second": figure(net::RATE),
                        "p50_ns": figure(net::P50),
                        "p99_ns": figure(net::P99),
                        "server_cpu_ns_per_exchange": figure(net::SERVER_CPU),
                        "server_context_switches_per_exchange": figure(net::SERVER_SWITCHES),
                        "client_cpu_share": figure(net::CLIENT_BUSY),
                        "speed_vs_zokio_system": echo_speed(row, c.runtime, SYSTEM),
                    }),
                );
            }
            json!({
                "case": row.case,
                "workers": row.workers.workers,
                "one_cpu": row.workers.one_cpu,
                "contenders": contenders,
            })
        })
        .collect();
    let info: Vec<Value> = infos()
        .iter()
        .map(|(name, i)| {
            json!({
                "contender": name,
                "scheduler": i.scheduler,
                "driver": i.driver,
                "memory": i.memory,
                "task_header_bytes": i.task_header_bytes,
                "per_worker_bytes": i.per_worker_bytes,
                "driver_bytes": i.driver_bytes,
                "local_queue_capacity": i.local_queue_capacity,
            })
        })
        .collect();
    let targets: Vec<Value> = targets(r)
        .iter()
        .map(|t| {
            json!({
                "target": t.what,
                "goal": t.goal,
                "value": t.value,
                "shown": t.shown,
                "hit": t.hit,
            })
        })
        .collect();
    json!({
        "workers": r.workers,
        "timed": timed,
        "idle": idle,
        "echo": echo,
        "echo_warmup": r.echo_plan.warmup,
        "echo_runs": r.echo_plan.runs,
        "info": info,
        "targets": targets,
        "notes": r.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::affinity::Placement;
    use crate::memory::IdlePart;
    use crate::net::Contender as NetContender;
    use crate::workloads::SpawnFrom;
    use crate::Plan;

    fn col(key: &'static str, figures: Vec<Vec<f64>>) -> Collected {
        Collected {
            key,
            label: key.into(),
            figures,
            error: None,
        }
    }

    /// Times per run for one workload: `system` twice as slow as `pooled`.
    fn timed(w: Workload, pooled: f64) -> TimedPart {
        let t = |v: f64| vec![vec![v, v, v], vec![v; 3], vec![1.0; 3]];
        TimedPart {
            workload: w,
            plan: Plan { warmup: 1, runs: 3 },
            contenders: vec![
                col(SYSTEM, t(2.0)),
                col(POOLED, t(pooled)),
                col(NUMA, t(pooled)),
                col("tokio", t(4.0)),
                col(MIMALLOC_ROW, t(1.5)),
                Collected {
                    key: "smol",
                    label: "smol".into(),
                    figures: vec![],
                    error: Some("boom".into()),
                },
            ],
        }
    }

    fn echo_row() -> NetRow {
        let c = |runtime, rate: f64| NetContender {
            runtime,
            figures: vec![vec![rate; 3]; 8],
            error: None,
        };
        NetRow {
            case: "1 KiB x 64 conn".into(),
            workers: Placement::spread(2),
            contenders: vec![c(SYSTEM, 100.0), c(POOLED, 100.0), c(NUMA, 90.0)],
        }
    }

    fn result() -> MemoryResult {
        MemoryResult {
            workers: 2,
            timed: vec![
                timed(Workload::SpawnManyLocal, 1.0),
                timed(Workload::ChainedSpawn, 1.0),
                timed(Workload::YieldMany, 2.0),
            ],
            idle: vec![IdlePart {
                from: SpawnFrom::Task,
                plan: Plan { warmup: 0, runs: 1 },
                contenders: vec![
                    col(SYSTEM, vec![vec![64.0], vec![0.0]]),
                    col(POOLED, vec![vec![48.0], vec![48.0]]),
                    col(NUMA, vec![vec![48.0], vec![48.0]]),
                ],
            }],
            echo_plan: Plan { warmup: 0, runs: 3 },
            echo: vec![echo_row()],
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn paired_ratios_take_the_median_of_rounds() {
        // Round by round: 2, 0.5, 0.5; the medians alone would say 1.
        assert_eq!(
            paired(&[100.0, 200.0, 50.0], &[50.0, 400.0, 100.0]),
            Some(0.5)
        );
        // Unpaired: the ratio of the medians.
        assert_eq!(paired(&[2.0, 2.0], &[1.0]), Some(2.0));
        assert_eq!(paired(&[], &[1.0]), None);
    }

    #[test]
    fn targets_are_judged() {
        let t = targets(&result());
        let by = |what: &str| t.iter().find(|t| t.what.starts_with(what)).unwrap();
        let s = by("spawn_many_local: zokio-pooled speed vs zokio-system");
        assert_eq!((s.value, s.hit), (Some(2.0), Some(true)));
        let m = by("chained_spawn: zokio-pooled speed vs zokio-system+mimalloc");
        assert_eq!((m.value, m.hit), (Some(1.5), Some(true)));
        let idle = by("zokio-pooled bytes per idle task");
        assert_eq!((idle.value, idle.hit), (Some(48.0), Some(true)));
        // yield_many: pooled as fast as system; the echo row too.
        let rest = by("no regression");
        assert_eq!((rest.value, rest.hit), (Some(1.0), Some(true)));
        // NUMA serves 10% less on the echo row: a miss, and it says where.
        let numa = by("zokio-numa");
        assert_eq!(numa.hit, Some(false));
        assert!(
            numa.shown.contains("echo 1 KiB x 64 conn at 2"),
            "{}",
            numa.shown
        );
    }

    #[test]
    fn table_has_a_row_per_contender_and_workload() {
        let t = table(&result());
        assert!(t.contains("| spawn_many_local | zokio-pooled | 1 ns | 2.00x | 4.00x | 1 ns | 1 |"));
        assert!(t.contains("| spawn_many_local | smol | n/a | n/a | n/a | n/a | n/a |"));
        assert!(t.contains("| task | zokio-pooled | 48.0 B | 48.0 B | 1.33x | n/a |"));
        assert!(t.contains("| 1 KiB x 64 conn | 2 | zokio-numa | 0.1 k | 0.90x |"));
        assert!(t.contains("| zokio-pooled | pooled |"));
        assert!(t.contains("- memory: a note"));
        assert!(t.contains("- memory spawn_many_local on smol: boom"));
        assert!(t.contains("| MISS |"));
    }

    #[test]
    fn json_keeps_samples_and_targets() {
        let v = json(&result());
        let smol = &v["timed"][0]["contenders"]["zokio-pooled"];
        assert_eq!(smol["ns"]["samples"].as_array().unwrap().len(), 3);
        assert_eq!(smol["speed_vs_zokio_system"], json!(2.0));
        assert_eq!(v["idle"][0]["spawned_from"], json!("task"));
        assert_eq!(v["info"].as_array().unwrap().len(), 4);
        assert!(v["targets"].as_array().unwrap().len() >= 7);
        assert_eq!(
            v["echo"][0]["contenders"]["zokio-numa"]["speed_vs_zokio_system"],
            json!(0.9)
        );
    }
}
