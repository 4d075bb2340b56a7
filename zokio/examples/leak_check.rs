//! Builds each runtime flavour, leaves it full of tasks in every state (pending,
//! queued, finished with unread output, panicked, aborted, waiting on each other,
//! blocking) after a round of file operations (a write left in flight, bytes read
//! ahead, a positioned read dropped mid-way), drops it, and exits. CI runs this under valgrind: any definitely or
//! indirectly lost byte fails the run, proving shutdown frees every task.

use std::time::Duration;

use zokio::runtime::{Builder, Runtime};
use zokio::sync::{mpsc, oneshot};

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "multi_thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            Builder::new_current_thread().build().unwrap(),
        ),
        (
            "thread_per_core",
            Builder::new_thread_per_core()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ]
}

fn fill(rt: &Runtime) -> Vec<zokio::task::JoinHandle<()>> {
    let mut kept = Vec::new();
    rt.block_on(async {
        // Pending forever, never woken again.
        for _ in 0..1000 {
            kept.push(zokio::spawn(std::future::pending::<()>()));
        }
        // Detached tasks waiting on each other in a ring of channels.
        let (first_tx, mut prev_rx) = mpsc::channel::<u32>(1);
        for _ in 0..100 {
            let (tx, rx) = mpsc::channel::<u32>(1);
            let mut inbox = std::mem::replace(&mut prev_rx, rx);
            zokio::spawn(async move {
                while let Some(v) = inbox.recv().await {
                    let _ = tx.send(v).await;
                }
            });
        }
        zokio::spawn(async move {
            let _keep = first_tx;
            let mut rx = prev_rx;
            while rx.recv().await.is_some() {}
        });
        // Finished, output never read.
        let done = zokio::spawn(async { vec![1u8; 64] });
        while !done.is_finished() {
            zokio::task::yield_now().await;
        }
        // Panicked, and aborted.
        let _ = zokio::spawn(async { panic!("expected panic in leak check") }).await;
        let aborted = zokio::spawn(std::future::pending::<()>());
        aborted.abort();
        let _ = aborted.await;
        // A task holding a JoinHandle of another pending task.
        let inner = zokio::spawn(std::future::pending::<()>());
        kept.push(zokio::spawn(async move {
            let _ = inner.await;
        }));
        // A oneshot whose sender lives in a task that never finishes.
        let (tx, rx) = oneshot::channel::<()>();
        zokio::spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await
        });
        kept.push(zokio::spawn(async move {
            let _ = rx.await;
        }));
        // A JoinSet dropped with tasks in it.
        let mut set = zokio::task::JoinSet::new();
        for _ in 0..10 {
            set.spawn(std::future::pending::<()>());
        }
        drop(set);
        // Files: a poll-based write still in flight when its File is dropped, bytes
        // read ahead and never handed out, a positioned read into uninitialised room,
        // one polled once and dropped, whole-file calls, a half-read directory.
        files().await;
        // Blocking work finished before shutdown.
        zokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)))
            .await
            .unwrap();
    });
    kept
}

async fn files() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = std::env::temp_dir().join(format!("zokio-leak-check-{}", std::process::id()));
    zokio::fs::create_dir_all(&dir).await.unwrap();
    let path = dir.join("data");
    zokio::fs::write(&path, vec![7u8; 64 * 1024]).await.unwrap();
    assert_eq!(zokio::fs::read(&path).await.unwrap().len(), 64 * 1024);
    let mut file = zokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    let mut head = [0u8; 16];
    file.read_exact(&mut head).await.unwrap();
    let (r, got) = file.read_at(Vec::with_capacity(4096), 100).await;
    assert_eq!((r.unwrap(), got.len()), (4096, 4096));
    {
        let read = file.read_at(Vec::with_capacity(1 << 16), 0);
        futures::pin_mut!(read);
        let _ = futures::poll!(read.as_mut());
    }
    file.write_all(&[1u8; 100_000]).await.unwrap();
    drop(file);
    let mut entries = zokio::fs::read_dir(&dir).await.unwrap();
    let _ = entries.next_entry().await.unwrap();
    drop(entries);
    zokio::fs::remove_dir_all(&dir).await.unwrap();
}

fn main() {
    // Keep panics quiet: one is expected.
    std::panic::set_hook(Box::new(|_| {}));
    for (name, rt) in runtimes() {
        let kept = fill(&rt);
        drop(rt);
        for handle in kept {
            let result = futures::executor::block_on(handle);
            assert!(
                result.unwrap_err().is_cancelled(),
                "{name}: a live task was not cancelled at shutdown"
            );
        }
        println!("{name}: shut down cleanly");
    }
}
