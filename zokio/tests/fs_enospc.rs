//! A full disk: `ENOSPC` reaches the caller from every write path (positioned owned
//! buffers, the poll-based writer's flush, `fs::write`). The test mounts a 1 MiB
//! tmpfs, which needs privileges; where mounting is not allowed it says so loudly
//! and does nothing. Its own binary, since it mounts a file system.

// Needs a tmpfs mount and `ENOSPC` (Unix); a Windows version is still to be written.
#![cfg(unix)]

use std::path::PathBuf;
use std::process::Command;

use tokio::io::AsyncWriteExt;

/// Unmounts and removes the mount point, even if the test fails.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The OS error code, through the error's context.
fn errno(e: &std::io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        let inner = e.get_ref()?;
        std::error::Error::source(inner)?
            .downcast_ref::<std::io::Error>()?
            .raw_os_error()
    })
}

fn assert_full(what: &str, e: &std::io::Error) {
    assert_eq!(errno(e), Some(libc::ENOSPC), "{what}: {e}");
    assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{what}: {e}");
}

#[test]
fn enospc_reaches_the_caller() {
    let dir = std::env::temp_dir().join(format!("zokio-enospc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        let _ = std::fs::remove_dir(&dir);
        eprintln!(
            "\n!!! SKIPPED: cannot mount a small tmpfs here (needs privileges); the ENOSPC \
             test did not run\n"
        );
        return;
    }
    let _mount = Mount(dir.clone());
    let big = vec![7u8; 2 << 20];
    for (flavor, rt) in [
        (
            "multi_thread",
            zokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            zokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        ),
    ] {
        rt.block_on(async {
            let path = dir.join(format!("{flavor}-positioned"));
            let file = zokio::fs::File::create(&path).await.unwrap();
            let (r, _) = file.write_all_at(big.clone(), 0).await;
            assert_full(&format!("{flavor} write_all_at"), &r.unwrap_err());
            drop(file);
            zokio::fs::remove_file(&path).await.unwrap();

            let path = dir.join(format!("{flavor}-poll"));
            let mut file = zokio::fs::File::create(&path).await.unwrap();
            // Writes return before they run: the error comes from a later write or
            // from flush, never silently nowhere.
            let mut failure = None;
            for chunk in big.chunks(256 << 10) {
                if let Err(e) = file.write_all(chunk).await {
                    failure = Some(e);
                    break;
                }
            }
            let failure = match failure {
                Some(e) => e,
                None => file.flush().await.unwrap_err(),
            };
            assert_full(&format!("{flavor} AsyncWrite"), &failure);
            drop(file);
            zokio::fs::remove_file(&path).await.unwrap();

            let path = dir.join(format!("{flavor}-fs-write"));
            let e = zokio::fs::write(&path, &big).await.unwrap_err();
            assert_full(&format!("{flavor} fs::write"), &e);
            assert!(e.to_string().contains("fs-write"), "{e}");
            let _ = zokio::fs::remove_file(&path).await;
        });
    }
}
