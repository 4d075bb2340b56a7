//! Memory strategies. Only `System` (the global allocator, one allocation per task)
//! is a strategy so far; the strategy types live in `config.rs`. `pool` holds the
//! allocator the `Pooled` strategy is to use (per-thread pools of small blocks), built
//! and tested on its own, not yet wired into tasks or operation cells.

pub(crate) mod pool;
