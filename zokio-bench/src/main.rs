//! `zokio-bench`: Zokio side by side with tokio and smol in one process.
//!
//! This file parses flags and runs the rounds: every round runs each
//! runtime once, in an order that rotates from round to round, so drift in
//! the machine (frequency, other load) spreads evenly over all three.
//! Warm-up rounds are discarded and medians reported. It must never treat
//! one runtime differently from another: anything runtime-specific belongs
//! in `runtimes`, and workload code in `workloads`. The driver groups
//! (`groups`: nop rate, timers, cross-thread wake, and the local groups:
//! `LocalSet` spawns, the `sync` wrappers' ping-pong) run after the scheduler
//! workloads, the same way, with a table of their own, and the network
//! groups (`net`: TCP echo against tokio and monoio, HTTP against hyper on
//! tokio) after those, with their servers' worker counts set apart by
//! `--net-workers`. The file system group (`fs_bench`: zokio::fs against
//! tokio::fs and std::fs) runs last. Echo and fs also run Zokio forced onto
//! its poll driver, as an informational column. The memory group (`memory`: Zokio's
//! memory strategies against tokio, smol and Zokio under mimalloc) runs only
//! when `--only` names it. The process's global allocator is
//! `alloc_switch`'s: the system's unless the memory group started this
//! process as its mimalloc child.
//!
//! While it runs, `progress` says on stderr which unit (workload or group)
//! is running and about how long is left. The report starts with
//! `summary`'s table, one line per unit, and `chart` draws the same ratios
//! as an SVG bar chart.

mod affinity;
mod alloc_switch;
mod chart;
mod estimate;
mod fs_bench;
mod group_report;
mod groups;
mod io_workloads;
mod local_workloads;
mod memory;
mod memory_child;
mod memory_report;
mod net;
mod net_client;
mod net_echo;
mod net_floor;
mod net_http;
mod net_servers;
mod process_workloads;
mod progress;
mod report;
mod rss;
mod runtimes;
mod stats;
mod summary;
mod timer_workloads;
mod wake_workloads;
mod workloads;

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use groups::Group;
use net::NetGroup;
use report::{RunInfo, RuntimeSamples, WorkloadResult};
use workloads::{Contender, SpawnFrom, Workload};

/// The system allocator, or mimalloc in the memory group's mimalloc child:
/// chosen once, by the first allocation (see `alloc_switch`).
#[global_allocator]
static GLOBAL: alloc_switch::Switch = alloc_switch::Switch;

const USAGE: &str = "\
usage: zokio-bench [--quick] [--workers N] [--net-workers N[,N...]]
                   [--only NAME[,NAME...]] [--json FILE] [--svg FILE]

  --quick         fewer and shorter runs, the network groups at one worker
                  count (2) unless --net-workers says otherwise
  --workers N     worker threads per runtime (default 2)
  --net-workers L the network servers' worker counts, each run in turn; `2p`
                  packs all 2 workers onto one CPU (default 1,2,2p: the load
                  generator keeps a CPU of its own; 2 with --quick)
  --only NAMES    run only these workloads or groups, comma-separated
  --json FILE     also write every sample and summary to FILE as JSON
  --svg FILE      write the summary's bar chart to FILE (default:
                  zokio-bench/report.svg in Cargo's target directory)

workloads: spawn_many_local, spawn_many_remote, yield_many, ping_pong,
           chained_spawn, imbalance, idle_task_bytes
groups:    nop_rate, timeout_create, sleep_lateness, cross_thread_wake,
           local_spawn (LocalSet: zokio vs tokio), sync_ping_pong (mpsc:
           zokio::sync vs bare tokio::sync on zokio vs tokio), process
           (spawn-and-wait of /bin/true: zokio::process vs tokio::process)
           (timers = timeout_create,sleep_lateness)
network:   echo (TCP ping-pong: zokio vs tokio vs monoio; zokio (poll),
           the same server on Zokio's poll driver, for information),
           http (hyper hello world: zokio vs tokio, driven by wrk)
           (net = echo,http)
file system: fs (random reads, sequential reads and writes, creating and
           removing files: zokio::fs vs tokio::fs vs std::fs on threads;
           zokio (poll), zokio::fs on Zokio's poll driver, for information)
memory:    memory (only when --only names it: it takes a few minutes of its
           own, under a minute with --quick): Zokio under each memory strategy
           (zokio-system, -pooled, -numa, -adaptive) vs tokio vs smol vs
           zokio-system with mimalloc as global allocator (in a child
           process), on the scheduler workloads above, bytes per idle task
           over 1,000,000 tasks, and echo at 1 KiB x 64 connections (at each
           --net-workers count); prints Runtime::<C>::INFO's sizes and the
           targets, hit or miss

Tables show medians and peer/zokio ratios: above 1 means Zokio is faster
(or, for idle_task_bytes, smaller). The groups' table orients every ratio
the same way: above 1 means Zokio did better.";

const DEFAULT_WORKERS: usize = 2;

/// Pause before each sample so the previous runtime's workers have gone
/// back to sleep and don't compete for CPUs with the next one's.
const SETTLE: Duration = Duration::from_millis(1);

/// One sample taking longer than this means a runtime lost a wake-up; the
/// bench says which one and exits rather than hanging silently.
const HANG_LIMIT: Duration = Duration::from_secs(120);

struct Args {
    quick: bool,
    workers: usize,
    only: Option<Vec<Workload>>,
    /// Driver groups picked by `--only`; `None` without `--only`.
    groups: Option<Vec<Group>>,
    /// Network groups picked by `--only`; `None` without `--only`.
    net: Option<Vec<NetGroup>>,
    /// Whether `--only` picked the `fs` group; `None` without `--only`.
    fs: Option<bool>,
    /// Whether `--only` picked the `memory` group (never run otherwise).
    memory: bool,
    net_workers: Vec<affinity::Placement>,
    json: Option<PathBuf>,
    /// Where the chart goes; `None` for the default path.
    svg: Option<PathBuf>,
    rss_child: Option<String>,
    rss_from: SpawnFrom,
    memory_child: Option<String>,
    help: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        workers: DEFAULT_WORKERS,
        only: None,
        groups: None,
        net: None,
        fs: None,
        net_workers: net::DEFAULT_WORKERS.to_vec(),
        json: None,
        svg: None,
        rss_child: None,
        rss_from: SpawnFrom::Outside,
        memory_child: None,
        memory: false,
        help: false,
    };
    let mut net_workers_given = false;
    while let Some(flag) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{flag} needs {what}"));
        match flag.as_str() {
            "--quick" => args.quick = true,
            "--workers" => {
                let n = value("a number")?;
                args.workers = match n.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--workers wants a positive number, got `{n}`")),
                };
            }
            "--net-workers" => {
                args.net_workers = net::parse_workers(&value("worker counts")?)?;
                net_workers_given = true;
            }
            "--only" => {
                let names = value("workload names")?;
                let mut only = Vec::new();
                let mut groups = Vec::new();
                let mut nets = Vec::new();
                let mut fs = false;
                for name in names.split(',').filter(|n| !n.is_empty()) {
                    if let Some(w) = Workload::from_name(name) {
                        only.push(w);
                        continue;
                    }
                    if name == fs_bench::NAME {
                        fs = true;
                        continue;
                    }
                    if name == memory::NAME {
                        args.memory = true;
                        continue;
                    }
                    let picked_net = NetGroup::expand(name);
                    if !picked_net.is_empty() {
                        for g in picked_net {
                            if !nets.contains(&g) {
                                nets.push(g);
                            }
                        }
                        continue;
                    }
                    let picked = Group::expand(name);
                    if picked.is_empty() {
                        return Err(format!("unknown workload or group `{name}`"));
                    }
                    for g in picked {
                        if !groups.contains(&g) {
                            groups.push(g);
                        }
                    }
                }
                args.only = Some(only);
                args.groups = Some(groups);
                args.net = Some(nets);
                args.fs = Some(fs);
            }
            "--json" => args.json = Some(PathBuf::from(value("a file name")?)),
            "--svg" => args.svg = Some(PathBuf::from(value("a file name")?)),
            rss::CHILD_FLAG => args.rss_child = Some(value("a runtime name")?),
            rss::FROM_FLAG => {
                let from = value("`task` or `outside`")?;
                args.rss_from = SpawnFrom::from_name(&from)
                    .ok_or(format!("{flag} wants `task` or `outside`, got `{from}`"))?;
            }
            memory_child::CHILD_FLAG => args.memory_child = Some(value("a contender name")?),
            "-h" | "--help" => args.help = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.quick && !net_workers_given {
        args.net_workers = net::QUICK_WORKERS.to_vec();
    }
    Ok(args)
}

/// Warm-up and measured rounds for one workload.
#[derive(Clone, Copy)]
struct Plan {
    warmup: usize,
    runs: usize,
}

fn plan_for(w: Workload, quick: bool) -> Plan {
    let (warmup, runs) = match (w, quick) {
        // About half a second per sample at two workers.
        (Workload::Imbalance, false) => (2, 15),
        (Workload::Imbalance, true) => (1, 3),
        // A child process per sample, and RSS barely varies between them.
        (Workload::IdleTaskBytes, false) => (0, 5),
        (Workload::IdleTaskBytes, true) => (0, 2),
        (_, false) => (30, 400),
        (_, true) => (5, 30),
    };
    Plan { warmup, runs }
}

fn plan_summary(quick: bool) -> String {
    let fast = plan_for(Workload::SpawnManyLocal, quick);
    let imb = plan_for(Workload::Imbalance, quick);
    let idle = plan_for(Workload::IdleTaskBytes, quick);
    format!(
        "{} measured after {} warm-up per runtime ({} after {} for imbalance; \
         {} child process(es) per runtime for idle_task_bytes)",
        fast.runs, fast.warmup, imb.runs, imb.warmup, idle.runs
    )
}

/// Exits the process if the current sample runs past [`HANG_LIMIT`].
struct Watchdog {
    started_ms: Arc<AtomicU64>,
    label: Arc<Mutex<String>>,
    epoch: Instant,
}

impl Watchdog {
    const IDLE: u64 = u64::MAX;

    fn start() -> Watchdog {
        let dog = Watchdog {
            started_ms: Arc::new(AtomicU64::new(Self::IDLE)),
            label: Arc::new(Mutex::new(String::new())),
            epoch: Instant::now(),
        };
        let (started, label, epoch) = (dog.started_ms.clone(), dog.label.clone(), dog.epoch);
        thread::Builder::new()
            .name("bench-watchdog".into())
            .spawn(move || loop {
                thread::sleep(Duration::from_secs(1));
                let s = started.load(Ordering::Acquire);
                if s != Self::IDLE
                    && epoch.elapsed().as_millis() as u64 > s + HANG_LIMIT.as_millis() as u64
                {
                    let label = label.lock().unwrap_or_else(|e| e.into_inner());
                    eprintln!("zokio-bench: {label} ran past {HANG_LIMIT:?}; giving up");
                    std::process::exit(3);
                }
            })
            .expect("spawning the watchdog thread");
        dog
    }

    fn guard<T>(&self, label: impl FnOnce() -> String, f: impl FnOnce() -> T) -> T {
        *self.label.lock().unwrap_or_else(|e| e.into_inner()) = label();
        self.started_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Release);
        let out = f();
        self.started_ms.store(Self::IDLE, Ordering::Release);
        out
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".to_string())
}

/// A runtime that could not be built stays in the table as `n/a`.
type Slot = Result<Box<dyn Contender>, String>;

fn run_timed(
    slots: &[(&'static str, Slot)],
    w: Workload,
    plan: Plan,
    dog: &Watchdog,
) -> WorkloadResult {
    let n = slots.len();
    let mut samples: Vec<RuntimeSamples> = slots
        .iter()
        .map(|(name, slot)| RuntimeSamples {
            runtime: name,
            samples: Vec::with_capacity(plan.runs),
            error: slot.as_ref().err().cloned(),
        })
        .collect();
    for round in 0..plan.warmup + plan.runs {
        for k in 0..n {
            let i = (round + k) % n;
            let (_, Ok(rt)) = &slots[i] else { continue };
            if samples[i].error.is_some() {
                continue;
            }
            thread::sleep(SETTLE);
            let took = dog.guard(
                || format!("{} on {}", w.name(), rt.name()),
                || panic::catch_unwind(AssertUnwindSafe(|| rt.run_timed(w))),
            );
            match took {
                Ok(d) if round >= plan.warmup => samples[i].samples.push(d.as_nanos() as f64),
                Ok(_) => {}
                // A runtime that panics mid-workload may hold leftover
                // tasks; its later samples would not be comparable.
                Err(p) => {
                    samples[i].samples.clear();
                    samples[i].error = Some(panic_message(&*p));
                }
            }
        }
    }
    WorkloadResult {
        workload: w,
        warmup: plan.warmup,
        runs: plan.runs,
        runtimes: samples,
    }
}

fn run_idle(names: &[&'static str], workers: usize, plan: Plan, dog: &Watchdog) -> WorkloadResult {
    let n = names.len();
    let mut samples: Vec<RuntimeSamples> = names
        .iter()
        .map(|name| RuntimeSamples {
            runtime: name,
            samples: Vec::with_capacity(plan.runs),
            error: None,
        })
        .collect();
    for round in 0..plan.runs {
        for k in 0..n {
            let i = (round + k) % n;
            if samples[i].error.is_some() {
                continue;
            }
            let name = names[i];
            match dog.guard(
                || format!("idle_task_bytes on {name}"),
                || rss::probe(name, workers, SpawnFrom::Outside),
            ) {
                Ok(p) => {
                    eprintln!(
                        "  {name}: {:.1} B/task (RSS {} -> {} bytes)",
                        p.bytes_per_task, p.rss_before, p.rss_after
                    );
                    samples[i].samples.push(p.bytes_per_task);
                }
                Err(e) => {
                    samples[i].samples.clear();
                    samples[i].error = Some(e);
                }
            }
        }
    }
    WorkloadResult {
        workload: Workload::IdleTaskBytes,
        warmup: 0,
        runs: plan.runs,
        runtimes: samples,
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("zokio-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if let Err(e) = alloc_switch::check_env() {
        eprintln!("zokio-bench: {e}");
        return ExitCode::from(2);
    }
    if let Some(contender) = &args.memory_child {
        return match memory_child::child_main(contender, args.workers) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("zokio-bench memory child: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(runtime) = &args.rss_child {
        return match rss::child_main(runtime, args.workers, args.rss_from) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("zokio-bench rss child: {e}");
                ExitCode::FAILURE
            }
        };
    }

    let workloads = args.only.clone().unwrap_or_else(|| Workload::ALL.to_vec());
    let groups = args.groups.clone().unwrap_or_else(|| Group::ALL.to_vec());
    let nets = args.net.clone().unwrap_or_else(|| NetGroup::ALL.to_vec());
    let run_fs = args.fs.unwrap_or(true);
    let run_memory = args.memory;
    let info = RunInfo {
        workers: args.workers,
        cpus: thread::available_parallelism().map_or(0, |n| n.get()),
        quick: args.quick,
        plan: if workloads.is_empty() {
            "groups only (their plans are in the notes)".to_string()
        } else {
            plan_summary(args.quick)
        },
    };
    // The groups build runtimes of their own; these would only sit idle.
    let needs_slots = workloads.iter().any(|&w| w != Workload::IdleTaskBytes);
    let slots: Vec<(&'static str, Slot)> = runtimes::NAMES
        .iter()
        .filter(|_| needs_slots)
        .map(|&name| {
            (
                name,
                runtimes::build(name, args.workers).map_err(|e| e.to_string()),
            )
        })
        .collect();
    for (name, slot) in &slots {
        if let Err(e) = slot {
            eprintln!("zokio-bench: could not build {name}: {e}");
        }
    }

    let mut units: Vec<progress::Unit> = Vec::new();
    for &w in &workloads {
        units.push(progress::Unit {
            label: format!("{} (zokio, tokio, smol)", w.name()),
            estimate: estimate::workload(w, args.quick),
        });
    }
    for &g in &groups {
        units.push(progress::Unit {
            label: g.name().to_string(),
            estimate: estimate::group(g, args.quick),
        });
    }
    for &g in &nets {
        units.push(progress::Unit {
            label: format!(
                "{} at {} worker count(s) ({})",
                g.name(),
                args.net_workers.len(),
                g.runtimes().join(", ")
            ),
            estimate: estimate::net(g, args.net_workers.len(), args.quick),
        });
    }
    if run_fs {
        units.push(progress::Unit {
            label: fs_bench::NAME.to_string(),
            estimate: estimate::fs(args.quick),
        });
    }
    if run_memory {
        units.push(progress::Unit {
            label: memory::NAME.to_string(),
            estimate: estimate::memory(args.quick),
        });
    }
    let mut progress = progress::Progress::new(units);

    let dog = Watchdog::start();
    let mut results = Vec::with_capacity(workloads.len());
    for &w in &workloads {
        let plan = plan_for(w, args.quick);
        progress.start();
        let result = match w {
            Workload::IdleTaskBytes => run_idle(&runtimes::NAMES, args.workers, plan, &dog),
            _ => run_timed(&slots, w, plan, &dog),
        };
        progress.finish();
        results.push(result);
    }
    drop(slots);
    let mut group_results = Vec::with_capacity(groups.len());
    for &g in &groups {
        progress.start();
        group_results.push(groups::run(g, args.workers, args.quick, &dog));
        progress.finish();
    }
    let mut net_results = Vec::with_capacity(nets.len());
    for &g in &nets {
        progress.start();
        net_results.push(net::run(g, &args.net_workers, args.quick, &dog));
        progress.finish();
    }
    let fs_result = run_fs.then(|| {
        progress.start();
        let r = fs_bench::run(args.quick, &dog);
        progress.finish();
        r
    });
    let memory_result = run_memory.then(|| {
        progress.start();
        let r = memory::run(args.workers, &args.net_workers, args.quick, &dog);
        progress.finish();
        r
    });

    // The summary reads the same ratios the detailed tables show below it.
    let lines: Vec<summary::Line> = results
        .iter()
        .map(summary::workload_line)
        .chain(group_results.iter().map(summary::group_line))
        .chain(net_results.iter().map(summary::net_line))
        .chain(fs_result.iter().map(summary::fs_line))
        .filter(|l| !l.cells.is_empty())
        .collect();

    println!("{}", report::header(&info));
    if !lines.is_empty() {
        println!("{}", summary::table(&lines));
        println!("details:\n");
    }
    if !results.is_empty() {
        print!("{}", report::table(&results));
    }
    if !group_results.is_empty() {
        if !results.is_empty() {
            println!();
        }
        print!("{}", group_report::table(&group_results));
    }
    if !net_results.is_empty() {
        if !results.is_empty() || !group_results.is_empty() {
            println!();
        }
        print!("{}", net::table(&net_results));
    }
    if let Some(r) = &fs_result {
        if !results.is_empty() || !group_results.is_empty() || !net_results.is_empty() {
            println!();
        }
        print!("{}", fs_bench::table(r));
    }
    if let Some(r) = &memory_result {
        if !results.is_empty()
            || !group_results.is_empty()
            || !net_results.is_empty()
            || fs_result.is_some()
        {
            println!();
        }
        print!("{}", memory_report::table(r));
    }

    let mut failed = false;
    if !lines.is_empty() {
        let path = args.svg.clone().unwrap_or_else(chart::default_path);
        let subtitle = report::header(&info).trim_end().to_string();
        match chart::write(&path, &lines, &subtitle) {
            Ok(()) => eprintln!("wrote the chart to {}", path.display()),
            // The tables are out already: a chart that could not be written
            // fails the run, after them.
            Err(e) => {
                eprintln!("zokio-bench: {e}");
                failed = true;
            }
        }
    }

    if let Some(path) = &args.json {
        let mut doc = report::json(&info, &results);
        doc["summary"] = summary::json(&lines);
        doc["groups"] = group_report::json(&group_results);
        doc["net"] = net::json(&net_results);
        let flags: Vec<String> = args.net_workers.iter().map(|p| p.flag()).collect();
        doc["net_workers"] = serde_json::json!(flags);
        if let Some(r) = &fs_result {
            doc["fs"] = fs_bench::json(r);
        }
        if let Some(r) = &memory_result {
            doc["memory"] = memory_report::json(r);
        }
        let text = match serde_json::to_string_pretty(&doc) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("zokio-bench: encoding JSON: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("zokio-bench: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {}", path.display());
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(String::from))
    }

    #[test]
    fn defaults() {
        let a = parse("").unwrap();
        assert_eq!(a.workers, DEFAULT_WORKERS);
        assert!(!a.quick && a.only.is_none() && a.json.is_none() && a.rss_child.is_none());
        assert!(a.groups.is_none() && a.net.is_none() && a.fs.is_none());
        assert!(!a.memory && a.memory_child.is_none());
        assert_eq!(a.rss_from, SpawnFrom::Outside);
        assert_eq!(a.net_workers, net::DEFAULT_WORKERS.to_vec());
    }

    #[test]
    fn flags() {
        let a = parse("--quick --workers 4 --only ping_pong,imbalance --json out.json").unwrap();
        assert!(a.quick);
        assert_eq!(a.workers, 4);
        assert_eq!(
            a.only.unwrap(),
            vec![Workload::PingPong, Workload::Imbalance]
        );
        assert_eq!(a.json.unwrap(), PathBuf::from("out.json"));
        assert_eq!(a.net_workers, net::QUICK_WORKERS.to_vec());
        assert!(a.svg.is_none());
        assert_eq!(a.groups.unwrap(), vec![]);
        assert_eq!(a.net.unwrap(), vec![]);
        assert_eq!(a.fs, Some(false));
    }

    #[test]
    fn svg_and_quick_net_workers() {
        let a = parse("--svg chart.svg").unwrap();
        assert_eq!(a.svg.unwrap(), PathBuf::from("chart.svg"));
        assert!(parse("--svg").is_err());
        // --quick runs the network at one worker count, unless told otherwise.
        let a = parse("--net-workers 1,2p --quick").unwrap();
        assert_eq!(
            a.net_workers,
            vec![
                affinity::Placement::spread(1),
                affinity::Placement::one_cpu(2)
            ]
        );
    }

    #[test]
    fn only_takes_the_fs_group() {
        let a = parse("--only fs,echo").unwrap();
        assert_eq!(a.fs, Some(true));
        assert_eq!(a.net.unwrap(), vec![NetGroup::Echo]);
        assert_eq!(a.only.unwrap(), vec![]);
    }

    #[test]
    fn network_groups_and_workers() {
        let a = parse("--only echo,nop_rate --net-workers 2,4").unwrap();
        assert_eq!(a.net.unwrap(), vec![NetGroup::Echo]);
        assert_eq!(a.groups.unwrap(), vec![Group::NopRate]);
        assert_eq!(
            a.net_workers,
            vec![
                affinity::Placement::spread(2),
                affinity::Placement::spread(4)
            ]
        );
        let a = parse("--net-workers 1,2p").unwrap();
        assert_eq!(
            a.net_workers,
            vec![
                affinity::Placement::spread(1),
                affinity::Placement::one_cpu(2)
            ]
        );
        let a = parse("--only net,http").unwrap();
        assert_eq!(a.net.unwrap(), vec![NetGroup::Echo, NetGroup::Http]);
        assert!(parse("--net-workers 0").is_err());
        assert!(parse("--net-workers").is_err());
    }

    #[test]
    fn only_takes_groups_too() {
        let a = parse("--only nop_rate,yield_many,timers,sleep_lateness").unwrap();
        assert_eq!(a.only.unwrap(), vec![Workload::YieldMany]);
        assert_eq!(
            a.groups.unwrap(),
            vec![Group::NopRate, Group::TimeoutCreate, Group::SleepLateness]
        );
    }

    #[test]
    fn only_takes_the_local_groups() {
        let a = parse("--only local_spawn,sync_ping_pong").unwrap();
        assert_eq!(
            a.groups.unwrap(),
            vec![Group::LocalSpawn, Group::SyncPingPong]
        );
        assert_eq!(a.only.unwrap(), vec![]);
        assert_eq!(a.fs, Some(false));
    }

    #[test]
    fn only_takes_the_memory_group() {
        let a = parse("--only memory --quick").unwrap();
        assert!(a.memory && a.quick);
        assert_eq!(a.only.unwrap(), vec![]);
        assert_eq!(a.groups.unwrap(), vec![]);
        assert_eq!(a.net.unwrap(), vec![]);
        assert_eq!(a.fs, Some(false));
        let a = parse("--only memory,echo").unwrap();
        assert!(a.memory);
        assert_eq!(a.net.unwrap(), vec![NetGroup::Echo]);
    }

    #[test]
    fn child_flags() {
        let a = parse("--rss-child zokio-pooled --workers 2 --rss-from task").unwrap();
        assert_eq!(a.rss_child.as_deref(), Some("zokio-pooled"));
        assert_eq!(a.rss_from, SpawnFrom::Task);
        assert!(parse("--rss-from inside").is_err());
        let a = parse("--memory-child zokio-system+mimalloc").unwrap();
        assert_eq!(a.memory_child.as_deref(), Some("zokio-system+mimalloc"));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("--workers 0").is_err());
        assert!(parse("--workers").is_err());
        assert!(parse("--only nope").is_err());
        assert!(parse("--frobnicate").is_err());
    }

    #[test]
    fn quick_keeps_enough_runs() {
        for w in Workload::ALL {
            let p = plan_for(w, true);
            match w {
                Workload::Imbalance | Workload::IdleTaskBytes => assert!(p.runs >= 1),
                _ => assert!(p.runs >= 5),
            }
        }
    }
}
