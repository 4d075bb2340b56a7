//! The runtime's hooks into `zokio::signal` where that module does not exist yet
//! (Windows): Unix runtime threads keep their signal masks up to date through these;
//! with no signal listening there is nothing to keep, so each hook does nothing. Must
//! never grow behaviour of its own: the Windows version of `signal` replaces it.

/// Called on each thread a runtime starts.
#[inline]
pub(crate) fn runtime_thread_started() {}

/// Bring this thread's mask up to date: there is none.
#[inline]
pub(crate) fn resync_runtime_thread_mask() {}

/// Whether this thread's mask lags behind: never.
#[inline]
pub(crate) fn runtime_thread_mask_stale() -> bool {
    false
}
