//! The memory group (`--only memory`): Zokio under each memory strategy
//! (system, pooled, numa, adaptive) against tokio and smol, plus Zokio on
//! the system strategy with mimalloc as the process's global allocator, all
//! in one run.
//!
//! Three parts, each reusing the code the other groups use, unchanged for
//! every contender: the scheduler workloads (`workloads`), idle bytes per
//! task over `IDLE_TASKS` parked tasks (`rss`, a child process per sample),
//! and the echo group's 1 KiB x 64 connection case (`net::echo_once`). The
//! rounds are those of the other groups: every contender once per round, in
//! an order that rotates from round to round, warm-up discarded, medians
//! kept. The mimalloc contender lives in a child process (`memory_child`)
//! and takes its turn in the same rounds. This file picks contenders and
//! sizes and collects samples; `memory_report` turns them into tables and
//! judges the targets. It must never run a different workload for one
//! contender.

use std::cell::RefCell;
use std::io;
use std::time::Instant;

use zokio::runtime::Builder;

use crate::affinity::Placement;
use crate::groups::{rounds_named, Collected, Entrant};
use crate::memory_child::ChildContender;
use crate::net::{self, NetGroup, NetRow};
use crate::runtimes::{self, MEMORY_NAMES, MIMALLOC_ROW};
use crate::workloads::{Contender, SpawnFrom, Workload, IDLE_TASKS};
use crate::{net_client, rss, Plan, Watchdog};

/// The name `--only` takes.
pub const NAME: &str = "memory";

/// The echo case the memory group runs: message bytes, connections.
pub const ECHO_BYTES: usize = 1024;
pub const ECHO_CONNS: usize = 64;

/// Figures of one timed sample, in this order.
pub const NANOS: usize = 0;
pub const CPU_NANOS: usize = 1;
pub const SWITCHES: usize = 2;

/// Figures of one idle-task sample, in this order.
pub const IDLE_BYTES: usize = 0;
pub const POOLED_BYTES: usize = 1;

/// The scheduler workloads the group runs (idle bytes are a part of their own).
pub fn timed_workloads() -> Vec<Workload> {
    Workload::ALL
        .into_iter()
        .filter(|&w| w != Workload::IdleTaskBytes)
        .collect()
}

/// Child processes per contender for each idle-task row.
fn idle_plan(quick: bool) -> Plan {
    Plan {
        warmup: 0,
        runs: if quick { 1 } else { 3 },
    }
}

/// One timed sample of `w` on `rt`, with the process's CPU time and context
/// switches over it: `[NANOS, CPU_NANOS, SWITCHES]`. The parent and the
/// mimalloc child both measure through here.
pub fn measure_timed(rt: &dyn Contender, w: Workload) -> Vec<f64> {
    let (cpu, switches) = (net_client::process_cpu(), process_switches());
    let took = rt.run_timed(w);
    let cpu = net_client::process_cpu().saturating_sub(cpu);
    let switches = process_switches().saturating_sub(switches);
    vec![
        took.as_nanos() as f64,
        cpu.as_nanos() as f64,
        switches as f64,
    ]
}

/// Voluntary plus involuntary context switches of the whole process so far.
fn process_switches() -> u64 {
    // SAFETY: `usage` is a valid out-pointer for getrusage; all zeroes is a
    // valid `rusage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF always exists.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    (usage.ru_nvcsw + usage.ru_nivcsw) as u64
}

/// One scheduler workload's samples, every contender.
pub struct TimedPart {
    pub workload: Workload,
    pub plan: Plan,
    pub contenders: Vec<Collected>,
}

/// One idle-task row's samples, every contender.
pub struct IdlePart {
    pub from: SpawnFrom,
    pub plan: Plan,
    pub contenders: Vec<Collected>,
}

pub struct MemoryResult {
    pub workers: usize,
    pub timed: Vec<TimedPart>,
    pub idle: Vec<IdlePart>,
    pub echo_plan: Plan,
    pub echo: Vec<NetRow>,
    pub notes: Vec<String>,
}

/// A contender of the timed part: in this process, or the mimalloc child.
enum Side {
    Here(Box<dyn Contender>),
    Child(RefCell<ChildContender>),
}

fn start(name: &'static str, workers: usize) -> io::Result<Side> {
    if name == MIMALLOC_ROW {
        ChildContender::start(name, workers).map(|c| Side::Child(RefCell::new(c)))
    } else {
        runtimes::build(name, workers).map(Side::Here)
    }
}

pub fn run(workers: usize, net_workers: &[Placement], quick: bool, dog: &Watchdog) -> MemoryResult {
    let mut notes = Vec::new();
    // The scheduler workloads: every runtime built once, as the main table does.
    let slots: Vec<(&'static str, io::Result<Side>)> = MEMORY_NAMES
        .iter()
        .map(|&name| (name, start(name, workers)))
        .collect();
    for (name, slot) in &slots {
        if let Err(e) = slot {
            eprintln!("zokio-bench: could not build {name}: {e}");
        }
    }
    let mut timed = Vec::new();
    for w in timed_workloads() {
        let plan = crate::plan_for(w, quick);
        eprintln!("running memory {} ...", w.name());
        let started = Instant::now();
        let mut entrants: Vec<Entrant<'_>> = slots
            .iter()
            .map(|(name, slot)| {
                Entrant::on(name, name.to_string(), slot, move |side| match side {
                    Side::Here(rt) => measure_timed(&**rt, w),
                    Side::Child(child) => child.borrow_mut().timed(w),
                })
            })
            .collect();
        let contenders = rounds_named(&format!("memory {}", w.name()), &mut entrants, plan, dog);
        drop(entrants);
        eprintln!("  done in {:.1?}", started.elapsed());
        timed.push(TimedPart {
            workload: w,
            plan,
            contenders,
        });
    }
    // Nothing of the timed part may sit in memory or wake up during the rest;
    // the child keeps only its process, for the echo runs.
    let mut child = None;
    for (_, slot) in slots {
        if let Ok(Side::Child(c)) = slot {
            let mut c = c.into_inner();
            if let Err(e) = c.release() {
                eprintln!("zokio-bench: releasing the {MIMALLOC_ROW} runtime: {e}");
            }
            child = Some(c);
        }
    }

    let mut idle = Vec::new();
    for from in [SpawnFrom::Task, SpawnFrom::Outside] {
        let plan = idle_plan(quick);
        eprintln!("running memory idle tasks spawned from {} ...", from.name());
        let started = Instant::now();
        let mut entrants: Vec<Entrant<'_>> = MEMORY_NAMES
            .iter()
            .map(|&name| {
                Entrant::plain(name, name.to_string(), move || {
                    let p = rss::probe(name, workers, from).unwrap_or_else(|e| panic!("{e}"));
                    eprintln!(
                        "  {name}: {:.1} B/task (RSS {} -> {} bytes), pools {:.1} B/task",
                        p.bytes_per_task, p.rss_before, p.rss_after, p.pooled_per_task
                    );
                    vec![p.bytes_per_task, p.pooled_per_task]
                })
            })
            .collect();
        let contenders = rounds_named(
            &format!("memory idle tasks from {}", from.name()),
            &mut entrants,
            plan,
            dog,
        );
        drop(entrants);
        eprintln!("  done in {:.1?}", started.elapsed());
        idle.push(IdlePart {
            from,
            plan,
            contenders,
        });
    }

    eprintln!("running memory echo ...");
    let started = Instant::now();
    let echo_plan = NetGroup::Echo.plan(quick);
    let cases: Vec<(String, Placement)> = net_workers
        .iter()
        .map(|&w| {
            (
                format!("{} x {ECHO_CONNS} conn", net::size_label(ECHO_BYTES)),
                w,
            )
        })
        .collect();
    let drivers = net::Drivers::default();
    let placement = net::Placements::default();
    let child = RefCell::new(child);
    let echo = net::collect_over(
        "memory echo",
        &MEMORY_NAMES,
        &cases,
        echo_plan,
        dog,
        |rt, _, w| {
            let run = if rt == MIMALLOC_ROW {
                child
                    .borrow_mut()
                    .as_mut()
                    .unwrap_or_else(|| panic!("the {MIMALLOC_ROW} child did not start"))
                    .echo(ECHO_BYTES, ECHO_CONNS, w, quick)
            } else {
                net::echo_once(rt, ECHO_BYTES, ECHO_CONNS, w, quick)
            };
            drivers.saw(rt, &run.driver);
            placement.saw(w, run.placement);
            run.figures
        },
    );
    drop(child);
    eprintln!("  done in {:.1?}", started.elapsed());

    notes.push(format!(
        "contenders: zokio-<strategy> is a multi_thread({workers}) Zokio runtime built with \
         Builder::memory(<strategy>); tokio and smol are the main table's; {MIMALLOC_ROW} is \
         zokio-system in a child process of this binary whose global allocator is mimalloc \
         (it runs its own samples when its turn in a round comes; its CPU time and context \
         switches are its own process's; its echo runs put the client in the child too, so \
         that the server's CPU time is counted the same way); every other contender runs in this process, under \
         the system allocator: {}",
        crate::alloc_switch::current().name()
    ));
    notes.push(
        "every allocation of this binary goes through one switch (a relaxed load and a branch, \
         see alloc_switch) to the allocator chosen at start; all contenders pay it alike for \
         what they take from the global allocator, which under a pooled strategy is less (the \
         pools map their segments from the system directly)"
            .into(),
    );
    notes.push(resolved_note());
    notes.push(
        "scheduler workloads: the main table's, same sizes and plans; CPU / run and cs / run \
         are the whole process's CPU time (user and kernel) and voluntary plus involuntary \
         context switches over one run (the other contenders' threads are parked meanwhile)"
            .into(),
    );
    notes.push(format!(
        "idle tasks: {IDLE_TASKS} tasks that never finish, each polled once, in a fresh child \
         process per sample (the idle_task_bytes probe); RSS growth over the spawn divided by \
         the tasks; `pools` is what Zokio's pools grew by (zokio::memory::pooled_bytes), per \
         task; spawned from a task = through the runtime's in-task spawn (under a pooled \
         strategy the cell comes from the worker's pool), from outside = Runtime::spawn on the \
         bench thread (under a pooled strategy, the global allocator)"
    ));
    notes.push(format!(
        "echo: the echo group's servers and client, {} x {ECHO_CONNS} connections, at each \
         --net-workers placement; smol's server: async-executor on N threads each in \
         async_io::block_on(executor.run(..)), one accept loop, a task per connection, \
         async-io's Async<TcpStream> read + write_all through a 4 KiB buffer; {}; {}",
        net::size_label(ECHO_BYTES),
        drivers.note(),
        placement.note()
    ));
    MemoryResult {
        workers,
        timed,
        idle,
        echo_plan,
        echo,
        notes,
    }
}

/// What each strategy resolved to on this machine (Adaptive picks one).
fn resolved_note() -> String {
    let parts: Vec<String> = MEMORY_NAMES
        .iter()
        .filter_map(|&name| {
            let strategy = runtimes::zokio_strategy(runtimes::split_allocator(name).0)?;
            let got = Builder::new_current_thread()
                .memory(strategy)
                .build()
                .map(|rt| rt.handle().memory_strategy().name().to_string())
                .unwrap_or_else(|e| format!("not built: {e}"));
            Some(format!("{name} -> {got}"))
        })
        .collect();
    format!(
        "strategies as resolved on this machine: {}",
        parts.join(", ")
    )
}
