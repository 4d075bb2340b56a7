//! What listening for a console control event changes in a Windows process: one
//! console control handler, installed (`SetConsoleCtrlHandler`) with the first
//! listener of any event and kept for the life of the process, since removing it
//! while the system may be starting a thread to run it would race with that thread.
//! It declines (returns `FALSE` for) every event without a listener, so the handlers
//! installed before it, and finally the default one that ends the process, act as if
//! it were not there; that is how the last listener "puts back" what the first one
//! changed.
//!
//! The system runs the handler on a thread of its own for each event, not in signal
//! context: it counts the event in the dispatcher (`registry.rs`) and wakes the
//! listeners from there, so no reader task has anything to read (each runtime's only
//! waits to end with its runtime). Runtime threads have no signal mask here, so their
//! hooks do nothing. Nothing here may block a runtime thread.

use std::future::Future;
use std::io;
use std::sync::OnceLock;

use windows_sys::core::BOOL;
use windows_sys::Win32::Foundation::{FALSE, TRUE};
use windows_sys::Win32::System::Console::{
    SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
};

use super::registry;

/// What the dispatcher keeps for this layer: nothing, the handler is process-wide.
pub(super) struct State;

impl State {
    pub(super) const NEW: State = State;
}

/// What arming an event replaced: nothing (the handler stays, declining the event).
pub(super) struct Saved;

/// The dispatcher's number for a console event: the event's own code plus one, as the
/// dispatcher counts from 1.
pub(super) const fn slot(event: u32) -> usize {
    event as usize + 1
}

/// The first listener of an event came: make sure the handler is installed.
pub(super) fn arm(_slot: usize, _state: &mut State) -> io::Result<Saved> {
    install_handler()?;
    Ok(Saved)
}

/// The last listener of an event went: the handler now declines it by itself.
pub(super) fn disarm(_slot: usize, _state: &mut State, _saved: Saved) {}

/// No thread has a signal mask to bring up to date.
pub(super) fn listeners_changed() {}

/// The handler delivers on the system's thread: a runtime's reader task only waits
/// to be dropped with its runtime.
pub(super) fn read_deliveries() -> impl Future<Output = ()> + Send + 'static {
    std::future::pending()
}

/// Install the handler once per process; a failure is remembered (its code), so
/// every later listener gets the same answer without retrying.
fn install_handler() -> io::Result<()> {
    static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        // SAFETY: `on_console_event` has the signature of a handler routine and,
        // being a plain function, lives as long as the process.
        if unsafe { SetConsoleCtrlHandler(Some(on_console_event), TRUE) } != 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    });
    installed.map_err(|code| {
        let os = io::Error::from_raw_os_error(code);
        io::Error::new(
            os.kind(),
            format!(
                "zokio::signal could not install its console control handler \
                 (SetConsoleCtrlHandler: {os}); console events cannot be listened for \
                 in this process"
            ),
        )
    })
}

/// Count `event` and wake its listeners if it has any; whether it had (the answer the
/// handler gives the system). Events Zokio has no listener type for are declined.
pub(super) fn dispatch(event: u32) -> bool {
    match event {
        CTRL_C_EVENT | CTRL_BREAK_EVENT | CTRL_CLOSE_EVENT | CTRL_LOGOFF_EVENT
        | CTRL_SHUTDOWN_EVENT => registry::deliver_if_listened(slot(event)),
        _ => false,
    }
}

/// The handler routine, on a thread the system started for this event.
unsafe extern "system" fn on_console_event(event: u32) -> BOOL {
    if !dispatch(event) {
        return FALSE;
    }
    if matches!(
        event,
        CTRL_CLOSE_EVENT | CTRL_LOGOFF_EVENT | CTRL_SHUTDOWN_EVENT
    ) {
        // For these the system ends the process as soon as a handler returns, taken
        // or not. Holding this thread here gives the listeners the time the system
        // grants before it ends the process anyway (seconds), to clean up and exit
        // on their own.
        loop {
            std::thread::park();
        }
    }
    TRUE
}

/// Called on each thread a runtime starts: Windows threads have no signal mask.
#[inline]
pub(crate) fn runtime_thread_started() {}

/// Bring this thread's signal mask up to date: there is none.
#[inline]
pub(crate) fn resync_runtime_thread_mask() {}

/// Whether this thread's signal mask lags behind: never, there is none.
#[inline]
pub(crate) fn runtime_thread_mask_stale() -> bool {
    false
}
