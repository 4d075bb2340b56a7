//! What listening for a signal changes in a Unix process, for the dispatcher
//! (`registry.rs`) to call at its first and last listener of a signal: the
//! `sigaction` handler (`handler.rs`), the signalfd's mask (`signalfd.rs`, Linux) and
//! the masks of the runtime threads (`mask.rs`); and the deliveries' source each
//! runtime's reader task watches (`reader.rs`). The dispatcher calls these under its
//! lock, except [`listeners_changed`]; nothing here counts a delivery itself.

use std::future::Future;
use std::io;

pub(super) use super::handler::Saved;
#[cfg(target_os = "linux")]
use super::registry::bit;
#[cfg(target_os = "linux")]
use super::signalfd;
use super::{handler, mask, reader};

/// What the dispatcher keeps for this layer, under its lock.
pub(super) struct State {
    /// The listened signals that runtime threads block and the signalfd takes: all
    /// but the ones whose replaced disposition is a function. The signalfd would take
    /// some deliveries of those before any handler runs (it takes any pending signal
    /// of its mask, also one the kernel meant for another thread), and the program's
    /// own handler would miss them; so they only ever arrive through our handler.
    /// Always empty without signalfd (not Linux).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    through_fd: u64,
}

impl State {
    pub(super) const NEW: State = State { through_fd: 0 };
}

/// The first listener of `signum` came: install our handler (and, on Linux, route
/// the signal through the signalfd unless it chains to a handler of the program's
/// own). Everything exists before this returns; on error nothing changed.
pub(super) fn arm(signum: usize, state: &mut State) -> io::Result<Saved> {
    // Both descriptors exist before anything can write to them.
    handler::event_fd()?;
    #[cfg(target_os = "linux")]
    signalfd::fd()?;
    let saved = handler::install(signum)?;
    // Without signalfd (not Linux), no signal goes through one: the handler
    // takes every delivery, and no runtime thread blocks anything.
    #[cfg(target_os = "linux")]
    if !saved.chains() {
        let through_fd = state.through_fd | bit(signum);
        if let Err(err) = signalfd::set_mask(through_fd) {
            let _ = handler::restore(signum, saved);
            return Err(err);
        }
        state.through_fd = through_fd;
        mask::set_wanted(through_fd);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = state;
    Ok(saved)
}

/// The last listener of `signum` went: put back everything `arm` changed.
pub(super) fn disarm(signum: usize, state: &mut State, saved: Saved) {
    #[cfg(target_os = "linux")]
    if state.through_fd & bit(signum) != 0 {
        let through_fd = state.through_fd & !bit(signum);
        state.through_fd = through_fd;
        if let Err(err) = signalfd::set_mask(through_fd) {
            log::warn!("{err}");
        }
        mask::set_wanted(through_fd);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = state;
    // A signal raised before this point, still waiting for the thread the kernel
    // chose, would meet the restored disposition (for most signals: the end of the
    // process). Take it now; it was raised while listened for, and there is nobody
    // left to report it to. A thread that dequeued one before us runs our handler.
    mask::take_pending(super::registry::bit(signum));
    if let Err(err) = handler::restore(signum, saved) {
        log::warn!("{err}");
    }
}

/// The set of listened signals changed: bring this thread's mask up to date (a
/// runtime thread's; no other thread's mask is touched). Called without the lock.
pub(super) fn listeners_changed() {
    mask::resync();
}

/// What a runtime's reader task does for as long as it lives: read the signalfd and
/// the handler's eventfd through the runtime's driver and count what they hold.
pub(super) fn read_deliveries() -> impl Future<Output = ()> + Send + 'static {
    reader::run()
}
