//! A program that tokio-console can attach to: a few named tasks (a ticker, a pair
//! that wake each other through a channel, sleepers), a blocking closure and timers,
//! for a while (60 s, or the seconds given as the first argument).
//!
//! Build it with the `tracing` feature and the cfg that lets console-subscriber
//! build without tokio's unstable flag, then attach `tokio-console`:
//!
//! ```text
//! RUSTFLAGS="--cfg console_without_tokio_unstable" \
//!     cargo run -p zokio --features tracing --example console -- 600
//! tokio-console                 # in another terminal; http://127.0.0.1:6669
//! ```
//!
//! The server listens where `TOKIO_CONSOLE_BIND` says (`127.0.0.1:6669` by default).
//! console-subscriber runs its gRPC server on a tokio runtime of its own, in a thread
//! it starts; the program's tasks all run on Zokio.

#[cfg(console_without_tokio_unstable)]
fn main() -> std::io::Result<()> {
    use std::time::Duration;

    use zokio::task::Builder;

    console_subscriber::init();
    let seconds: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|_| {
            std::io::Error::other(format!("`{arg}` is not a number of seconds to run"))
        })?,
        None => 60,
    };
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        Builder::new().name("ticker").spawn(async {
            let mut interval = zokio::time::interval(Duration::from_millis(100));
            loop {
                interval.tick().await;
            }
        })?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(1);
        Builder::new().name("producer").spawn(async move {
            for n in 0.. {
                zokio::time::sleep(Duration::from_millis(50)).await;
                if tx.send(n).await.is_err() {
                    break;
                }
            }
        })?;
        Builder::new().name("consumer").spawn(async move {
            while let Some(n) = rx.recv().await {
                std::hint::black_box(n);
            }
        })?;
        for i in 0..3u64 {
            let name = format!("sleeper-{i}");
            Builder::new().name(&name).spawn(async move {
                loop {
                    zokio::time::sleep(Duration::from_millis(200 * (i + 1))).await;
                }
            })?;
        }
        Builder::new()
            .name("blocking-nap")
            .spawn_blocking(|| std::thread::sleep(Duration::from_millis(500)))?;
        zokio::time::sleep(Duration::from_secs(seconds)).await;
        Ok(())
    })
}

#[cfg(not(console_without_tokio_unstable))]
fn main() {
    eprintln!(
        "this example needs console-subscriber, which builds only under \
         `--cfg console_without_tokio_unstable`; run it as\n  \
         RUSTFLAGS=\"--cfg console_without_tokio_unstable\" \
         cargo run -p zokio --features tracing --example console"
    );
    std::process::exit(2);
}
