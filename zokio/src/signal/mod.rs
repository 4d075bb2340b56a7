//! Asynchronous signal handling, with tokio's `tokio::signal` API: `ctrl_c()` and, in
//! `unix`, a listener for any signal. (Being built.)
