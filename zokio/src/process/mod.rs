//! Child processes, with tokio's `tokio::process` API. (Being built.)
