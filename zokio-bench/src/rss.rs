//! The `idle_task_bytes` probe: resident memory per parked task, each
//! runtime measured in a fresh child process of this same binary.
//!
//! A fresh process per runtime means no runtime reuses pages another one
//! freed, and none of the parent's timing runs are in the figure; it is also
//! how a contender gets a global allocator of its own (a `+mimalloc` name
//! starts the child with `alloc_switch::ENV` set). The child must hold
//! exactly one runtime and must not allocate anything between the two RSS
//! readings except the tasks themselves.

use std::fs;
use std::io;
use std::process::Command;

use crate::alloc_switch;
use crate::runtimes;
use crate::workloads::{SpawnFrom, Workload, IDLE_TASKS};

/// Hidden flag that turns this binary into the probe child.
pub const CHILD_FLAG: &str = "--rss-child";
/// Hidden flag telling the probe child where to spawn from (`outside`, the
/// default, or `task`).
pub const FROM_FLAG: &str = "--rss-from";

/// One probe result, in bytes.
pub struct Probe {
    pub bytes_per_task: f64,
    pub rss_before: u64,
    pub rss_after: u64,
    /// What Zokio's pools grew by (`zokio::memory::pooled_bytes`) per task:
    /// 0 for a runtime that does not pool.
    pub pooled_per_task: f64,
}

/// Runs the probe for `runtime` in a child process, its tasks spawned from
/// where `from` says.
pub fn probe(runtime: &str, workers: usize, from: SpawnFrom) -> Result<Probe, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let (_, allocator) = runtimes::split_allocator(runtime);
    let out = Command::new(exe)
        .arg(CHILD_FLAG)
        .arg(runtime)
        .arg("--workers")
        .arg(workers.to_string())
        .arg(FROM_FLAG)
        .arg(from.name())
        .env(alloc_switch::ENV, allocator.name())
        .output()
        .map_err(|e| format!("spawning the probe child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "probe child for {runtime} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    parse_child_line(&stdout).ok_or_else(|| format!("probe child for {runtime} printed {stdout:?}"))
}

fn parse_child_line(stdout: &str) -> Option<Probe> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut it = line.split_whitespace();
    let bytes_per_task = it.next()?.parse().ok()?;
    let rss_before = it.next()?.parse().ok()?;
    let rss_after = it.next()?.parse().ok()?;
    let pooled_per_task = match it.next() {
        Some(v) => v.parse().ok()?,
        None => 0.0,
    };
    Some(Probe {
        bytes_per_task,
        rss_before,
        rss_after,
        pooled_per_task,
    })
}

/// The child's whole life: prints `bytes_per_task rss_before rss_after
/// pooled_bytes_per_task`.
pub fn child_main(runtime: &str, workers: usize, from: SpawnFrom) -> Result<(), String> {
    let rt = runtimes::build(runtime, workers).map_err(|e| e.to_string())?;
    // Wake every worker and let the allocator set up its per-thread state
    // first, with workloads small enough that the memory they free and
    // leave cached is noise next to a million tasks.
    rt.run_timed(Workload::ChainedSpawn);
    rt.run_timed(Workload::PingPong);
    let before = resident_bytes().map_err(|e| format!("reading RSS: {e}"))?;
    let pooled_before = zokio::memory::pooled_bytes();
    rt.park_idle_tasks(IDLE_TASKS, from);
    let pooled_after = zokio::memory::pooled_bytes();
    let after = resident_bytes().map_err(|e| format!("reading RSS: {e}"))?;
    let per_task = after.saturating_sub(before) as f64 / IDLE_TASKS as f64;
    let pooled = pooled_after.saturating_sub(pooled_before) as f64 / IDLE_TASKS as f64;
    println!("{per_task} {before} {after} {pooled}");
    // Tearing down a million tasks is not part of the figure; the parent
    // only waits on us, so skip the runtime's drop.
    std::mem::forget(rt);
    Ok(())
}

/// Resident set size: `/proc/self/statm`'s resident pages × page size.
fn resident_bytes() -> io::Result<u64> {
    let statm = fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed statm"))?;
    Ok(pages * page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_last_line() {
        let p = parse_child_line("noise\n123.5 1000 2000\n").unwrap();
        assert_eq!(p.bytes_per_task, 123.5);
        assert_eq!((p.rss_before, p.rss_after), (1000, 2000));
        assert_eq!(p.pooled_per_task, 0.0);
        let p = parse_child_line("48.5 1000 2000 48\n").unwrap();
        assert_eq!(p.pooled_per_task, 48.0);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_child_line("").is_none());
        assert!(parse_child_line("abc 1 2").is_none());
        assert!(parse_child_line("1 2 3 pooled").is_none());
    }

    #[test]
    fn reads_own_rss() {
        if std::path::Path::new("/proc/self/statm").exists() {
            assert!(resident_bytes().unwrap() > 0);
        }
    }
}
