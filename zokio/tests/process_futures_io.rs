//! With the `futures-io` feature, a child's pipes implement the `futures` crate's
//! `AsyncRead`/`AsyncWrite`: 256 KiB written to `cat` with `write_all` and `close`
//! come back whole through `read_to_end` on its stdout, while stderr (written by the
//! shell) is read with `read_to_string`, on every flavour. Run with
//! `cargo test -p zokio --features futures-io --test process_futures_io`.

// Runs Unix programs (`sh`, `cat`...) and checks Unix reaping and signals; the Windows
// version of `process` is tested in `process_windows.rs`.
#![cfg(unix)]
#![cfg(feature = "futures-io")]

mod common;

use std::process::Stdio;

use common::{flavors_named, run_with_timeout, BODY_GUARD};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use zokio::process::Command;

#[test]
fn cat_round_trips_through_futures_io() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let payload: Vec<u8> = (0..256 * 1024).map(|i| (i * 7 % 251) as u8).collect();
                let mut child = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("{name}: spawning cat: {e}"));
                let mut stdin = child.stdin.take().unwrap();
                let mut stdout = child.stdout.take().unwrap();
                let sent = payload.clone();
                let writer = zokio::spawn(async move {
                    stdin.write_all(&sent).await.expect("write_all to cat");
                    stdin.close().await.expect("close cat's stdin");
                });
                let mut back = Vec::new();
                stdout
                    .read_to_end(&mut back)
                    .await
                    .expect("read cat's stdout");
                writer.await.unwrap();
                assert_eq!(back.len(), payload.len(), "{name}: length");
                assert!(back == payload, "{name}: the bytes differ");
                assert!(child.wait().await.unwrap().success(), "{name}: cat failed");

                let mut shell = Command::new("sh")
                    .args(["-c", "echo to-stderr >&2"])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut text = String::new();
                let mut stderr = shell.stderr.take().unwrap();
                stderr.read_to_string(&mut text).await.unwrap();
                assert_eq!(text, "to-stderr\n", "{name}: stderr");
                assert!(shell.wait().await.unwrap().success());
            });
        }
    });
}
