//! The memory strategy a runtime uses: the public choice, its environment variable,
//! and how `Adaptive` resolves on this machine.
//!
//! Resolution happens once, when a runtime is built; afterwards the runtime carries a
//! [`MemoryPlan`], which is never `Adaptive`. Nothing here allocates task memory.

use std::io;

/// Where a runtime's task cells and I/O operation cells come from; see
/// [`Builder::memory`](crate::runtime::Builder::memory).
///
/// ```
/// use zokio::runtime::{Builder, MemoryStrategy};
///
/// let rt = Builder::new_multi_thread()
///     .worker_threads(2)
///     .memory(MemoryStrategy::Pooled)
///     .build()
///     .unwrap();
/// assert_eq!(rt.handle().memory_strategy(), MemoryStrategy::Pooled);
/// assert_eq!(rt.block_on(async { zokio::spawn(async { 7 }).await.unwrap() }), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MemoryStrategy {
    /// The global allocator: one allocation per task and per operation, as in tokio.
    /// The default.
    #[default]
    System,
    /// Per-thread pools of small blocks on the runtime's threads (workers, and a
    /// thread inside `block_on`): in steady state a spawn or an I/O operation makes no
    /// call to the global allocator. A block freed on another thread goes back to its
    /// pool through a lock-free list. A pool keeps at most 1 MiB of free memory while
    /// busy, and a thread that has been idle for
    /// 50 ms gives back all but one block run per size class. Elsewhere (blocking-pool
    /// threads, threads outside the runtime) tasks use the global allocator.
    Pooled,
    /// `Pooled`, plus NUMA placement: workers are spread over the machine's nodes and
    /// pinned to their node's CPUs, pools are filled on their worker's node, and an
    /// idle worker steals from its own node before it crosses to another.
    ///
    /// Placement needs Linux (sysfs, `sched_setaffinity`, `mbind`). Elsewhere the
    /// machine counts as one node, threads are not pinned and memory is not bound:
    /// this strategy then behaves as `Pooled`.
    NumaAware,
    /// `NumaAware` on a machine with more than one NUMA node; otherwise `Pooled`.
    ///
    /// `Pooled` rather than `System` on one node, from a run of `zokio-bench --only
    /// memory` on a 2-CPU, one-node machine (multi-thread, 2 workers, medians of 400
    /// rounds; the ranges cover the `pooled` and `adaptive` rows, as ratios to
    /// `System`): spawn_many_local 1.33 to 1.35 times `System`'s rate, ping_pong 1.09
    /// to 1.13, chained_spawn 1.03 to 1.04, yield_many 1.03 to 1.04, 44.2 bytes per
    /// idle task against 56.1; but spawn_many_remote (tasks spawned from outside the
    /// runtime, whose cells come from the global allocator under every strategy) 0.78
    /// to 0.90, and echo at 64 connections 0.79 to 1.05 (that group's run-to-run noise
    /// is about 10%).
    Adaptive,
}

impl MemoryStrategy {
    /// The name used in reports and by `ZOKIO_MEMORY`.
    pub fn name(self) -> &'static str {
        match self {
            MemoryStrategy::System => "system",
            MemoryStrategy::Pooled => "pooled",
            MemoryStrategy::NumaAware => "numa",
            MemoryStrategy::Adaptive => "adaptive",
        }
    }
}

/// The environment variable that picks the strategy when the builder does not.
pub(crate) const ENV: &str = "ZOKIO_MEMORY";

fn env_choice() -> io::Result<Option<MemoryStrategy>> {
    let Some(value) = std::env::var_os(ENV) else {
        return Ok(None);
    };
    match value.to_str().map(str::trim) {
        Some("system") | Some("") => Ok(Some(MemoryStrategy::System)),
        Some("pooled") => Ok(Some(MemoryStrategy::Pooled)),
        Some("numa") | Some("numa_aware") => Ok(Some(MemoryStrategy::NumaAware)),
        Some("adaptive") => Ok(Some(MemoryStrategy::Adaptive)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{ENV}={value:?} is not a memory strategy: use `system`, `pooled`, `numa` \
                 or `adaptive` (or unset it for system)"
            ),
        )),
    }
}

/// What the builder knows about memory.
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryOptions {
    /// `None`: follow `ZOKIO_MEMORY`, else `System`.
    pub(crate) choice: Option<MemoryStrategy>,
    /// The directory standing in for `/sys` when the NUMA topology is read; `None`:
    /// `ZOKIO_SYSFS_ROOT`, else `/sys`.
    pub(crate) sysfs_root: Option<std::path::PathBuf>,
}

/// A runtime's resolved strategy: never `Adaptive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemoryPlan {
    pub(crate) strategy: MemoryStrategy,
}

impl MemoryPlan {
    /// The strategy asked for, by the builder or else the environment, before
    /// `Adaptive` is resolved.
    pub(crate) fn requested(options: &MemoryOptions) -> io::Result<MemoryStrategy> {
        match options.choice {
            Some(choice) => Ok(choice),
            None => Ok(env_choice()?.unwrap_or_default()),
        }
    }

    /// The plan for a runtime asking for `choice` on a machine with `nodes` NUMA
    /// nodes (which decides `Adaptive`).
    pub(crate) fn for_choice(choice: MemoryStrategy, nodes: usize) -> MemoryPlan {
        let strategy = match choice {
            MemoryStrategy::Adaptive if nodes > 1 => MemoryStrategy::NumaAware,
            MemoryStrategy::Adaptive => MemoryStrategy::Pooled,
            other => other,
        };
        MemoryPlan { strategy }
    }

    /// Whether the runtime's threads allocate cells from their pools.
    pub(crate) fn pooled(self) -> bool {
        matches!(
            self.strategy,
            MemoryStrategy::Pooled | MemoryStrategy::NumaAware
        )
    }
}
