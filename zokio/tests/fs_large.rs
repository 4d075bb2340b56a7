//! Files over 4 GiB read in one call: `fs::read` and `File::read_exact_at` into a
//! buffer larger than one system call may fill (Linux caps a transfer at
//! 0x7ffff000 bytes) loop instead of truncating. The file is sparse, so it costs
//! no disk, but each read needs over 4 GiB of memory: the test is ignored by
//! default, and CI runs it on its own once per driver (`--ignored`). It skips,
//! loudly, where the memory is not there.

#[cfg(unix)]
use std::os::unix::fs::FileExt;
#[cfg(windows)]
use std::os::windows::fs::FileExt;
use std::path::PathBuf;

const LEN: u64 = (4 << 30) + 4096 + 7;

fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A sparse file of `LEN` bytes with marks at the start, across 4 GiB, and at the end.
fn sparse_file() -> (PathBuf, [(u64, &'static [u8]); 3]) {
    let path = std::env::temp_dir().join(format!("zokio-fs-large-{}", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(LEN).unwrap();
    let marks: [(u64, &'static [u8]); 3] =
        [(0, b"start"), ((4 << 30) - 2, b"across"), (LEN - 3, b"end")];
    for (at, mark) in marks {
        #[cfg(unix)]
        file.write_all_at(mark, at).unwrap();
        // The marks are short: one positioned write each takes them whole.
        #[cfg(windows)]
        assert_eq!(file.seek_write(mark, at).unwrap(), mark.len());
    }
    (path, marks)
}

fn check(what: &str, got: &[u8], marks: &[(u64, &[u8])]) {
    assert_eq!(got.len() as u64, LEN, "{what}: length");
    for (at, mark) in marks {
        let at = *at as usize;
        assert_eq!(&got[at..at + mark.len()], *mark, "{what}: mark at {at}");
    }
    // A sample of the holes between the marks reads as zeros.
    for at in (4096..LEN as usize - 8).step_by(64 << 20) {
        assert!(
            got[at..at + 4].iter().all(|&b| b == 0),
            "{what}: hole at {at}"
        );
    }
}

#[test]
#[ignore = "needs over 4 GiB of memory; CI runs it with --ignored"]
fn reads_over_four_gib_loop_instead_of_truncating() {
    let need = 2 * LEN + (2 << 30);
    match available_memory() {
        Some(have) if have >= need => {}
        have => {
            eprintln!("SKIPPED fs_large: {need} bytes of available memory needed, {have:?} found");
            return;
        }
    }
    let (path, marks) = sparse_file();
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let task_path = path.clone();
    rt.block_on(async move {
        zokio::spawn(async move {
            let whole = zokio::fs::read(&task_path).await.unwrap();
            check("fs::read", &whole, &marks);
            drop(whole);

            let file = zokio::fs::File::open(&task_path).await.unwrap();
            let (r, got) = file
                .read_exact_at(Vec::with_capacity(LEN as usize), 0)
                .await;
            r.unwrap();
            check("read_exact_at", &got, &marks);
        })
        .await
        .unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}
