//! Windows console control events, as tokio's `tokio::signal::windows`: [`ctrl_c`],
//! [`ctrl_break`], [`ctrl_close`], [`ctrl_logoff`] and [`ctrl_shutdown`] each make a
//! listener of one event. The handler and what it changes live in `os_windows.rs`,
//! the counting in `registry.rs`; this file is only the public face. Windows has no
//! Unix signals: `zokio::signal::unix` is not compiled there.

use std::io;
use std::task::{Context, Poll};

use windows_sys::Win32::System::Console::{
    CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT,
};

use super::os;
use super::registry::{self, Listener};
use crate::runtime::Handle;

/// Register a listener of `event` on the current runtime; `what` names the function
/// the caller called, for the error.
fn listen(event: u32, what: &str) -> io::Result<Listener> {
    let handle = Handle::try_current().map_err(|err| {
        io::Error::other(format!(
            "zokio::signal::windows::{what} needs a Zokio runtime: it was {err}"
        ))
    })?;
    registry::register(os::slot(event), &handle)
}

/// One listener type and the function that makes it, for one console event.
macro_rules! console_event {
    (
        $(#[$type_doc:meta])*
        $name:ident,
        $(#[$fn_doc:meta])*
        fn $make:ident = $event:expr
    ) => {
        $(#[$type_doc])*
        ///
        /// Each [`recv`](Self::recv) completes once per event noticed since the
        /// previous one; events that arrive between two calls coalesce into one.
        /// Every listener sees every event, whichever runtime it lives in. While the
        /// event has a listener, Zokio's console handler takes it (the handlers
        /// installed before Zokio's do not see it); once the last listener is
        /// dropped, Zokio's handler declines it again.
        #[must_use = "a listener only listens while it is kept"]
        #[derive(Debug)]
        pub struct $name {
            listener: Listener,
        }

        $(#[$fn_doc])*
        ///
        /// Everything is in place when this returns: an event after it returned is
        /// seen by the next `recv`; events before it are not.
        ///
        /// # Errors
        /// Outside a Zokio runtime (tokio panics there instead): call it from a task,
        /// from `Runtime::block_on`, or after `Runtime::enter`. When the system
        /// refuses the console handler (`SetConsoleCtrlHandler`).
        pub fn $make() -> io::Result<$name> {
            Ok($name {
                listener: listen($event, stringify!($make))?,
            })
        }

        impl $name {
            /// Wait for the next event.
            ///
            /// Returns `None` once the runtime this listener was made on has shut
            /// down: no event is counted for it any more.
            ///
            /// # Cancel safety
            /// Cancel safe: an event a dropped `recv` did not report is reported by
            /// the next.
            pub async fn recv(&mut self) -> Option<()> {
                std::future::poll_fn(|cx| self.poll_recv(cx)).await
            }

            /// Poll for the next event: `Ready(Some(()))` when one happened since the
            /// last one reported, `Ready(None)` once this listener's runtime has shut
            /// down, and `Pending` otherwise, with `cx`'s waker kept to be woken by
            /// the next event.
            pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
                self.listener.poll_recv(cx)
            }
        }
    };
}

console_event!(
    /// A listener of Ctrl-C (`CTRL_C_EVENT`), made by [`ctrl_c`].
    CtrlC,
    /// Listen for Ctrl-C in the console on the current runtime. While a listener
    /// lives, Ctrl-C no longer ends the process.
    fn ctrl_c = CTRL_C_EVENT
);

console_event!(
    /// A listener of Ctrl-Break (`CTRL_BREAK_EVENT`), made by [`ctrl_break`].
    CtrlBreak,
    /// Listen for Ctrl-Break in the console (also what `GenerateConsoleCtrlEvent`
    /// sends to a process group) on the current runtime. While a listener lives,
    /// Ctrl-Break no longer ends the process.
    fn ctrl_break = CTRL_BREAK_EVENT
);

console_event!(
    /// A listener of the console closing (`CTRL_CLOSE_EVENT`), made by
    /// [`ctrl_close`].
    CtrlClose,
    /// Listen for the console window being closed on the current runtime.
    ///
    /// The system ends the process shortly after this event whatever the program
    /// does (after a few seconds); while a listener lives, Zokio's handler holds the
    /// system's thread until then, so that the program has that time to clean up.
    fn ctrl_close = CTRL_CLOSE_EVENT
);

console_event!(
    /// A listener of the user logging off (`CTRL_LOGOFF_EVENT`), made by
    /// [`ctrl_logoff`].
    CtrlLogoff,
    /// Listen for the user logging off on the current runtime. The system sends it
    /// to services only, not to programs of the session itself.
    ///
    /// As for [`ctrl_close`], the system ends the process shortly after the event;
    /// Zokio's handler holds it until then while a listener lives.
    fn ctrl_logoff = CTRL_LOGOFF_EVENT
);

console_event!(
    /// A listener of the system shutting down (`CTRL_SHUTDOWN_EVENT`), made by
    /// [`ctrl_shutdown`].
    CtrlShutdown,
    /// Listen for the system shutting down on the current runtime. The system sends
    /// it to services only, not to programs of a session.
    ///
    /// As for [`ctrl_close`], the system ends the process shortly after the event;
    /// Zokio's handler holds it until then while a listener lives.
    fn ctrl_shutdown = CTRL_SHUTDOWN_EVENT
);

/// Run what Zokio's console handler runs for `event` (a `CTRL_*_EVENT` code), on
/// this thread, and return the answer it would give the system: whether the event
/// has a listener (and was counted). Unlike the handler, it never holds the thread
/// for the events that end the process. A testing aid for Zokio's own tests, for
/// events a test cannot make the system send.
#[doc(hidden)]
pub fn deliver_console_event(event: u32) -> bool {
    os::dispatch(event)
}
