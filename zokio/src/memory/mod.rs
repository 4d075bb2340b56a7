//! Memory strategies: where task cells and I/O operation cells come from.
//!
//! - [`MemoryStrategy`] is the run-time choice (`Builder::memory`, `ZOKIO_MEMORY`);
//!   `strategy.rs` reads it and resolves `Adaptive` for this machine.
//! - `thread.rs` is the switch a runtime thread turns on while it drives tasks under a
//!   pooled strategy, and the allocation entry points tasks and operation cells call.
//! - `pool/` is the allocator behind `Pooled` and `NumaAware`: per-thread pools of
//!   small blocks, freeable from any thread.
//! - `numa/` is what `NumaAware` adds: the machine's nodes, where each worker goes,
//!   and the node a worker's pool places its memory on.
//! - `burst_buf.rs` is the storage of the runtime's structures that grow with the
//!   load (the run queues), mapped from the kernel so that a burst's peak is given
//!   back whole, whatever the strategy.
//! - `mapping.rs` is where that memory, and the pools' segments, come from: `mmap`
//!   on Unix, `VirtualAlloc` on Windows.
//!
//! Nothing here may poll a task or call user code.

mod burst_buf;
// Miri and loom model the global allocator but not mappings: there, nothing maps.
#[cfg(not(any(miri, loom)))]
mod mapping;
pub(crate) mod numa;
pub(crate) mod pool;
mod strategy;
mod thread;

pub use strategy::MemoryStrategy;

/// Bytes the pools of every thread in the process hold from the system: blocks in use,
/// blocks free for reuse, and blocks not yet handed out. 0 when no runtime uses a
/// pooled strategy. A pool holds at most 1 MiB free while its thread is busy, and
/// gives back all but one segment per size class after its thread has been idle for
/// 50 ms; the figure to watch after a burst of tasks.
///
/// ```
/// use zokio::runtime::{Builder, MemoryStrategy};
///
/// let rt = Builder::new_current_thread().memory(MemoryStrategy::Pooled).build().unwrap();
/// rt.block_on(async {
///     zokio::spawn(async {}).await.unwrap();
///     assert!(zokio::memory::pooled_bytes() > 0);
/// });
/// ```
pub fn pooled_bytes() -> usize {
    pool::process_segments() * pool::SEGMENT_SIZE
}
pub(crate) use burst_buf::BurstBuf;
pub(crate) use strategy::{MemoryOptions, MemoryPlan};
pub(crate) use thread::{alloc_cell, drop_cell, enter, idle_trim, CellMemory};
