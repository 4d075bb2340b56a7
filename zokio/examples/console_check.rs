//! CI's tokio-console check: starts the `console` example (built beside this one)
//! with its console server on a free port, connects to it with console-api's gRPC
//! client, as `tokio-console` does, and reads the update stream until the example's
//! named tasks are listed with their names and spawn locations. Exits non-zero, saying
//! what was missing, if they are not all seen within 60 seconds.
//!
//! ```text
//! RUSTFLAGS="--cfg console_without_tokio_unstable" cargo build -p zokio \
//!     --features tracing --example console --example console_check
//! target/debug/examples/console_check
//! ```
//!
//! The client runs on a tokio runtime: it stands for the tokio-console process,
//! not for a program on Zokio.

#[cfg(console_without_tokio_unstable)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::collections::BTreeMap;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use console_api::field::{Name, Value};
    use console_api::instrument::instrument_client::InstrumentClient;
    use console_api::instrument::InstrumentRequest;

    const WANTED: [&str; 6] = [
        "ticker",
        "producer",
        "consumer",
        "sleeper-0",
        "sleeper-1",
        "sleeper-2",
    ];

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let example =
        std::env::current_exe()?.with_file_name(format!("console{}", std::env::consts::EXE_SUFFIX));
    let mut child = Command::new(&example)
        .arg("120")
        .env("TOKIO_CONSOLE_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}; build it first", example.display()))?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(60);
        // The example needs a moment to start its server.
        let mut client = loop {
            match InstrumentClient::connect(format!("http://127.0.0.1:{port}")).await {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("could not connect to the console server: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let mut updates = client
            .watch_updates(InstrumentRequest {})
            .await
            .map_err(|e| format!("watch_updates failed: {e}"))?
            .into_inner();
        // Task name -> "file:line".
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        while Instant::now() < deadline {
            let update = tokio::time::timeout(Duration::from_secs(5), updates.message())
                .await
                .map_err(|_| "no update from the console server for 5 s".to_string())?
                .map_err(|e| format!("the update stream failed: {e}"))?
                .ok_or("the console server closed the update stream")?;
            for task in update.task_update.into_iter().flat_map(|u| u.new_tasks) {
                let name = task.fields.iter().find_map(|field| {
                    let is_name = matches!(&field.name, Some(Name::StrName(n)) if n == "task.name");
                    match (&field.value, is_name) {
                        (Some(Value::DebugVal(v) | Value::StrVal(v)), true) => Some(v.clone()),
                        _ => None,
                    }
                });
                let (Some(name), Some(location)) = (name, task.location) else {
                    continue;
                };
                let file = location.file.unwrap_or_default();
                let line = location.line.unwrap_or_default();
                if WANTED.contains(&name.as_str()) {
                    if !file.ends_with("examples/console.rs") || line == 0 {
                        return Err(format!("task {name} has location {file}:{line}"));
                    }
                    seen.insert(name, format!("{file}:{line}"));
                }
            }
            if WANTED.iter().all(|name| seen.contains_key(*name)) {
                println!(
                    "tokio-console's client saw every task after {:.1?}:",
                    start.elapsed()
                );
                for (name, location) in &seen {
                    println!("  {name:<10} spawned at {location}");
                }
                return Ok(());
            }
        }
        Err(format!(
            "after 60 s, only these tasks were listed: {seen:?}"
        ))
    });
    let _ = child.kill();
    let _ = child.wait();
    result.map_err(Into::into)
}

#[cfg(not(console_without_tokio_unstable))]
fn main() {
    eprintln!(
        "this check needs console-api, which is a dependency only under \
         `--cfg console_without_tokio_unstable`; see the file's header"
    );
    std::process::exit(2);
}
