//! Memory strategies. Only `System` (the global allocator, one allocation per task)
//! exists so far; pooled and NUMA-aware strategies arrive with the memory work and
//! are not named before they are built. The strategy types live in `config.rs`.
