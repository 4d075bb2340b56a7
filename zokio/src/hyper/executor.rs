//! `ZokioExecutor`: hyper's `rt::Executor`, which runs the background futures hyper
//! needs (each HTTP/2 connection's stream and ping tasks, for example), as Zokio tasks.
//!
//! It only spawns: it must never block, poll a future itself, or keep the tasks it
//! starts (they run detached, as hyper expects).

use std::future::Future;

/// Runs hyper's background futures on the current Zokio runtime with
/// [`zokio::spawn`](crate::spawn).
///
/// Needed by HTTP/2 (`hyper::server::conn::http2::Builder::new`,
/// `hyper::client::conn::http2::handshake`); HTTP/1 does without an executor.
///
/// # Panics
/// `execute` panics when called outside a Zokio runtime, as `zokio::spawn` does;
/// hyper calls it from the connection future, so serving or driving a connection
/// inside a runtime is enough.
#[derive(Clone, Copy, Debug, Default)]
pub struct ZokioExecutor {
    _private: (),
}

impl ZokioExecutor {
    /// An executor that spawns onto the current runtime.
    pub fn new() -> ZokioExecutor {
        ZokioExecutor { _private: () }
    }
}

impl<F> ::hyper::rt::Executor<F> for ZokioExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached: dropping the handle leaves the task running.
        drop(crate::spawn(future));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::hyper::rt::Executor;

    #[test]
    fn execute_spawns_a_detached_task() {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let got = rt.block_on(async move {
            ZokioExecutor::new().execute(async move {
                tx.send(42).unwrap();
            });
            rx.await.unwrap()
        });
        assert_eq!(got, 42);
    }
}
