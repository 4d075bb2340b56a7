//! The path functions of `zokio::fs` (`read`, `write`, `copy`, `rename`, links,
//! directories, permissions...) and `read_dir`, on the multi-thread and
//! current-thread schedulers, with whichever driver `ZOKIO_DRIVER` picks (CI runs
//! this file once with `io_uring` and once with `epoll`): round trips first, then
//! bad input (missing paths, a directory where a file is expected, no permission,
//! names over `NAME_MAX` and paths over `PATH_MAX`), then a directory of 10,000
//! entries read with `next_entry` and as a `Stream`.

mod common;

use std::collections::HashSet;
use std::ffi::OsString;
use std::future::Future;
use std::io::{self, ErrorKind};
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{run_with_timeout, BODY_GUARD};
use futures::StreamExt;
use zokio::fs;
use zokio::runtime::Runtime;

/// A fresh directory under the system's temporary directory, named after the
/// process and a counter; removed with everything in it when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("zokio-fs-paths-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating a temporary directory");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A test may have left a directory without permissions; give them back (the
        // tests that take them away are Unix's).
        #[cfg(unix)]
        restore_permissions(&self.path);
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(unix)]
fn restore_permissions(dir: &Path) {
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                restore_permissions(&entry.path());
            }
        }
    }
}

/// Run `body` in a task on a multi-thread runtime and on a current-thread one,
/// each with its own temporary directory, on a watchdog thread so that a hang
/// fails the test.
fn each_runtime<F, Fut>(tag: &'static str, body: F)
where
    F: Fn(PathBuf) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with_timeout(BODY_GUARD, move || {
        let runtimes: [(&str, Runtime); 2] = [
            ("multi_thread(2)", common::multi_thread(2)),
            ("current_thread", common::current_thread()),
        ];
        for (name, rt) in runtimes {
            let dir = TempDir::new(tag);
            let task = rt.spawn(body(dir.path.clone()));
            if let Err(e) = rt.block_on(task) {
                panic!("{tag} on {name}: the test task failed: {e}");
            }
        }
    })
}

/// The errno of an error from `zokio::fs`: the OS error is its `source()`.
#[cfg(unix)]
fn errno(e: &io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        e.get_ref()?
            .source()?
            .downcast_ref::<io::Error>()?
            .raw_os_error()
    })
}

/// Assert `e` is of `kind`, carries `errno` as its OS error, and names `path`. Windows
/// has error numbers of its own: there the kind and the path are checked.
#[track_caller]
fn assert_os_error(e: &io::Error, kind: ErrorKind, code: i32, path: &Path) {
    assert_eq!(e.kind(), kind, "unexpected kind: {e}");
    #[cfg(unix)]
    assert_eq!(errno(e), Some(code), "unexpected OS error: {e}");
    #[cfg(not(unix))]
    let _ = code;
    assert_names(e, path);
}

#[track_caller]
fn assert_names(e: &io::Error, path: &Path) {
    let shown = path.display().to_string();
    assert!(
        e.to_string().contains(&shown),
        "the error does not name {shown:?}: {e}"
    );
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

// ---------------------------------------------------------------- round trips

#[test]
fn write_read_and_read_to_string() {
    each_runtime("rw", |dir| async move {
        let file = dir.join("data.bin");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        fs::write(&file, &bytes).await.unwrap();
        assert_eq!(fs::read(&file).await.unwrap(), bytes);
        assert_eq!(fs::metadata(&file).await.unwrap().len(), bytes.len() as u64);

        // `write` replaces what the file held, shorter or not.
        fs::write(&file, "héllo").await.unwrap();
        assert_eq!(fs::read_to_string(&file).await.unwrap(), "héllo");
        fs::write(&file, b"").await.unwrap();
        assert_eq!(fs::read(&file).await.unwrap(), b"");

        // Not UTF-8: InvalidData, naming the file.
        fs::write(&file, [0xff, 0xfe, 0x00]).await.unwrap();
        let e = fs::read_to_string(&file).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData, "{e}");
        assert_names(&e, &file);

        // Owned and borrowed arguments of every `AsRef` kind.
        fs::write(file.clone(), vec![1u8, 2, 3]).await.unwrap();
        assert_eq!(fs::read(file.as_path()).await.unwrap(), [1, 2, 3]);
        let name: String = file.to_str().unwrap().to_owned();
        assert_eq!(fs::read(name).await.unwrap(), [1, 2, 3]);
    });
}

/// Whole-file reads grow their buffer in steps (a first small read, then one
/// sized by the file's length): lengths on either side of each step come back
/// whole, and a file whose length the kernel reports as 0 (`/proc`) is still read
/// to its end.
#[test]
fn whole_file_lengths_around_every_buffer_step() {
    each_runtime("steps", |dir| async move {
        let file = dir.join("steps.bin");
        for len in [1, 4095, 8191, 8192, 8193, 8192 + 32, 65_536, (1 << 20) + 3] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ (len as u8)).collect();
            fs::write(&file, &bytes).await.unwrap();
            assert_eq!(std::fs::read(&file).unwrap(), bytes, "written, {len} bytes");
            assert_eq!(fs::read(&file).await.unwrap(), bytes, "read, {len} bytes");
        }
        let expected = std::fs::read("/proc/self/cmdline").unwrap();
        assert!(!expected.is_empty());
        assert_eq!(std::fs::metadata("/proc/self/cmdline").unwrap().len(), 0);
        assert_eq!(fs::read("/proc/self/cmdline").await.unwrap(), expected);
        let status = fs::read_to_string("/proc/self/status").await.unwrap();
        assert!(
            status.starts_with("Name:") && status.contains("\nPid:"),
            "{status}"
        );
    });
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine's CopyFileExW reports 0 bytes copied to std::fs::copy (the copy is whole)"
)]
fn copy_keeps_contents_and_permissions() {
    each_runtime("copy", |dir| async move {
        let (src, dst) = (dir.join("src"), dir.join("dst"));
        let bytes = vec![42u8; 70_000];
        fs::write(&src, &bytes).await.unwrap();
        // Permission bits are Unix's.
        #[cfg(unix)]
        fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640))
            .await
            .unwrap();
        assert_eq!(fs::copy(&src, &dst).await.unwrap(), bytes.len() as u64);
        assert_eq!(fs::read(&dst).await.unwrap(), bytes);
        #[cfg(unix)]
        assert_eq!(mode(&dst), 0o640);

        // Copying over an existing file replaces its contents.
        fs::write(&src, b"short").await.unwrap();
        assert_eq!(fs::copy(&src, &dst).await.unwrap(), 5);
        assert_eq!(fs::read(&dst).await.unwrap(), b"short");
    });
}

#[test]
fn rename_moves_and_replaces() {
    each_runtime("rename", |dir| async move {
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, b"first").await.unwrap();
        fs::rename(&a, &b).await.unwrap();
        assert!(!fs::try_exists(&a).await.unwrap());
        assert_eq!(fs::read(&b).await.unwrap(), b"first");

        // Onto an existing file: replaced.
        fs::write(&a, b"second").await.unwrap();
        fs::rename(&a, &b).await.unwrap();
        assert_eq!(fs::read(&b).await.unwrap(), b"second");

        // Directories move with their contents.
        let (d1, d2) = (dir.join("d1"), dir.join("d2"));
        fs::create_dir(&d1).await.unwrap();
        fs::write(d1.join("inner"), b"x").await.unwrap();
        fs::rename(&d1, &d2).await.unwrap();
        assert_eq!(fs::read(d2.join("inner")).await.unwrap(), b"x");
        assert!(!fs::try_exists(&d1).await.unwrap());
    });
}

#[test]
fn hard_link_shares_the_inode() {
    each_runtime("hard_link", |dir| async move {
        let (src, dst) = (dir.join("src"), dir.join("dst"));
        fs::write(&src, b"shared").await.unwrap();
        fs::hard_link(&src, &dst).await.unwrap();
        // Inode numbers and link counts are Unix's metadata.
        #[cfg(unix)]
        {
            let (m1, m2) = (
                fs::metadata(&src).await.unwrap(),
                fs::metadata(&dst).await.unwrap(),
            );
            assert_eq!(m1.ino(), m2.ino());
            assert_eq!(m1.nlink(), 2);
        }
        fs::write(&dst, b"changed through the link").await.unwrap();
        assert_eq!(fs::read(&src).await.unwrap(), b"changed through the link");
        fs::remove_file(&src).await.unwrap();
        #[cfg(unix)]
        assert_eq!(fs::metadata(&dst).await.unwrap().nlink(), 1);

        // The destination exists already: AlreadyExists.
        fs::write(&src, b"again").await.unwrap();
        let e = fs::hard_link(&src, &dst).await.unwrap_err();
        assert_os_error(&e, ErrorKind::AlreadyExists, libc::EEXIST, &dst);
    });
}

#[cfg(unix)]
#[test]
fn symlink_read_link_and_symlink_metadata() {
    each_runtime("symlink", |dir| async move {
        let (target, link) = (dir.join("target"), dir.join("link"));
        fs::write(&target, b"pointed at").await.unwrap();
        fs::symlink(&target, &link).await.unwrap();
        assert_eq!(fs::read_link(&link).await.unwrap(), target);
        assert_eq!(fs::read(&link).await.unwrap(), b"pointed at");

        let meta = fs::symlink_metadata(&link).await.unwrap();
        assert!(meta.file_type().is_symlink());
        let followed = fs::metadata(&link).await.unwrap();
        assert!(followed.is_file());
        assert_eq!(followed.len(), 10);

        // A relative target is stored as given.
        let relative = dir.join("relative");
        fs::symlink("target", &relative).await.unwrap();
        assert_eq!(fs::read_link(&relative).await.unwrap(), Path::new("target"));
        assert_eq!(fs::read(&relative).await.unwrap(), b"pointed at");

        // A dangling link: the link exists, what it points at does not.
        let dangling = dir.join("dangling");
        fs::symlink(dir.join("nowhere"), &dangling).await.unwrap();
        assert!(fs::symlink_metadata(&dangling).await.is_ok());
        assert!(!fs::try_exists(&dangling).await.unwrap());
        let e = fs::metadata(&dangling).await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &dangling);

        // read_link of something that is not a link: EINVAL.
        let e = fs::read_link(&target).await.unwrap_err();
        assert_os_error(&e, ErrorKind::InvalidInput, libc::EINVAL, &target);

        // The link's name is taken: AlreadyExists.
        let e = fs::symlink(&target, &link).await.unwrap_err();
        assert_os_error(&e, ErrorKind::AlreadyExists, libc::EEXIST, &link);
    });
}

#[cfg(unix)]
#[test]
fn canonicalize_resolves_links_and_dots() {
    each_runtime("canonicalize", |dir| async move {
        let real = fs::canonicalize(&dir).await.unwrap();
        assert!(real.is_absolute());
        fs::create_dir_all(dir.join("a/b")).await.unwrap();
        fs::write(dir.join("a/file"), b"").await.unwrap();
        assert_eq!(
            fs::canonicalize(dir.join("a/b/../file")).await.unwrap(),
            real.join("a/file")
        );
        fs::symlink(dir.join("a/b"), dir.join("to_b"))
            .await
            .unwrap();
        assert_eq!(
            fs::canonicalize(dir.join("to_b")).await.unwrap(),
            real.join("a/b")
        );
        assert_eq!(
            fs::canonicalize(dir.join("to_b/../file")).await.unwrap(),
            real.join("a/file")
        );
    });
}

#[test]
fn create_and_remove_directories() {
    each_runtime("dirs", |dir| async move {
        let one = dir.join("one");
        fs::create_dir(&one).await.unwrap();
        assert!(fs::metadata(&one).await.unwrap().is_dir());
        let e = fs::create_dir(&one).await.unwrap_err();
        assert_os_error(&e, ErrorKind::AlreadyExists, libc::EEXIST, &one);

        // create_dir needs the parent; create_dir_all makes it, and is idempotent.
        let deep = dir.join("x/y/z");
        let e = fs::create_dir(&deep).await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &deep);
        fs::create_dir_all(&deep).await.unwrap();
        fs::create_dir_all(&deep).await.unwrap();
        assert!(fs::metadata(&deep).await.unwrap().is_dir());

        // remove_dir refuses a directory that is not empty.
        fs::write(deep.join("f"), b"f").await.unwrap();
        let e = fs::remove_dir(&deep).await.unwrap_err();
        assert_os_error(&e, ErrorKind::DirectoryNotEmpty, libc::ENOTEMPTY, &deep);
        fs::remove_file(deep.join("f")).await.unwrap();
        fs::remove_dir(&deep).await.unwrap();
        assert!(!fs::try_exists(&deep).await.unwrap());

        // remove_dir_all takes the whole tree, links included (not their targets).
        fs::create_dir_all(dir.join("x/y/w/v")).await.unwrap();
        fs::write(dir.join("x/y/w/v/file"), b"v").await.unwrap();
        fs::write(dir.join("kept"), b"kept").await.unwrap();
        #[cfg(unix)]
        fs::symlink(dir.join("kept"), dir.join("x/link"))
            .await
            .unwrap();
        fs::remove_dir_all(dir.join("x")).await.unwrap();
        assert!(!fs::try_exists(dir.join("x")).await.unwrap());
        assert_eq!(fs::read(dir.join("kept")).await.unwrap(), b"kept");

        // create_dir_all over a file: an error, not a success.
        let e = fs::create_dir_all(dir.join("kept/sub")).await.unwrap_err();
        assert_names(&e, &dir.join("kept/sub"));
    });
}

#[test]
fn try_exists_tells_files_directories_and_missing_paths() {
    each_runtime("try_exists", |dir| async move {
        fs::write(dir.join("f"), b"").await.unwrap();
        assert!(fs::try_exists(dir.join("f")).await.unwrap());
        assert!(fs::try_exists(&dir).await.unwrap());
        assert!(!fs::try_exists(dir.join("missing")).await.unwrap());
        assert!(!fs::try_exists(dir.join("missing/deeper")).await.unwrap());

        // When it cannot be told (no search permission on the parent): an error.
        // Permission bits are Unix's.
        #[cfg(unix)]
        try_exists_without_permission(&dir).await;
    });
}

/// `try_exists` under a directory without search permission: an error.
#[cfg(unix)]
async fn try_exists_without_permission(dir: &Path) {
    if is_root() {
        eprintln!(
            "SKIPPED: try_exists under a directory without permission \
             (running as root, which bypasses permissions)"
        );
        return;
    }
    let locked = dir.join("locked");
    fs::create_dir(&locked).await.unwrap();
    fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))
        .await
        .unwrap();
    let inside = locked.join("x");
    let e = fs::try_exists(&inside).await.unwrap_err();
    fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755))
        .await
        .unwrap();
    assert_os_error(&e, ErrorKind::PermissionDenied, libc::EACCES, &inside);
}

#[cfg(unix)]
#[test]
fn set_permissions_and_metadata() {
    each_runtime("permissions", |dir| async move {
        let file = dir.join("f");
        fs::write(&file, b"12345").await.unwrap();
        for m in [0o400, 0o644, 0o600, 0o755] {
            fs::set_permissions(&file, std::fs::Permissions::from_mode(m))
                .await
                .unwrap();
            let meta = fs::metadata(&file).await.unwrap();
            assert_eq!(meta.permissions().mode() & 0o7777, m);
            assert_eq!(meta.len(), 5);
            assert!(meta.is_file() && !meta.is_dir());
        }
        let mut readonly = fs::metadata(&file).await.unwrap().permissions();
        readonly.set_readonly(true);
        fs::set_permissions(&file, readonly).await.unwrap();
        assert!(fs::metadata(&file).await.unwrap().permissions().readonly());
        assert!(fs::metadata(&dir).await.unwrap().is_dir());
    });
}

// ------------------------------------------------------------------- errors

#[test]
fn missing_paths_are_not_found_and_named() {
    each_runtime("missing", |dir| async move {
        let missing = dir.join("does-not-exist");
        let other = dir.join("other");
        let nf = |e: io::Error| assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &missing);
        nf(fs::read(&missing).await.unwrap_err());
        nf(fs::read_to_string(&missing).await.unwrap_err());
        nf(fs::remove_file(&missing).await.unwrap_err());
        nf(fs::remove_dir(&missing).await.unwrap_err());
        nf(fs::remove_dir_all(&missing).await.unwrap_err());
        nf(fs::metadata(&missing).await.unwrap_err());
        nf(fs::symlink_metadata(&missing).await.unwrap_err());
        nf(fs::canonicalize(&missing).await.unwrap_err());
        nf(fs::read_link(&missing).await.unwrap_err());
        nf(fs::read_dir(&missing).await.unwrap_err());
        #[cfg(unix)]
        nf(
            fs::set_permissions(&missing, std::fs::Permissions::from_mode(0o644))
                .await
                .unwrap_err(),
        );
        nf(fs::copy(&missing, &other).await.unwrap_err());
        nf(fs::rename(&missing, &other).await.unwrap_err());
        assert!(!fs::try_exists(&missing).await.unwrap());

        // The two-path calls name both paths: either may be the one at fault.
        let e = fs::hard_link(&missing, &other).await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &other);
        assert_names(&e, &missing);
        for e in [
            fs::copy(&missing, &other).await.unwrap_err(),
            fs::rename(&missing, &other).await.unwrap_err(),
        ] {
            assert_names(&e, &other);
        }

        // A missing parent directory, for the calls that create.
        let orphan = dir.join("no-parent/child");
        let nf = |e: io::Error| assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &orphan);
        nf(fs::write(&orphan, b"x").await.unwrap_err());
        nf(fs::create_dir(&orphan).await.unwrap_err());
        #[cfg(unix)]
        nf(fs::symlink(&dir, &orphan).await.unwrap_err());
        fs::write(&other, b"x").await.unwrap();
        let e = fs::copy(&other, &orphan).await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &orphan);
        assert_names(&e, &other);
        let e = fs::rename(&other, &orphan).await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &orphan);
        assert_names(&e, &other);
        let e = fs::hard_link(&other, &orphan).await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &orphan);
        assert_names(&e, &other);
        // Nothing was created on the way.
        assert!(!fs::try_exists(dir.join("no-parent")).await.unwrap());
    });
}

#[cfg(unix)]
#[test]
// The error kinds here are Unix's (EISDIR, ENOTDIR); Windows reports other ones
// (access denied for a directory opened as a file, path not found below a file).
fn a_directory_where_a_file_is_expected() {
    each_runtime("wrong_type", |dir| async move {
        let sub = dir.join("sub");
        fs::create_dir(&sub).await.unwrap();
        let is_dir =
            |e: io::Error| assert_os_error(&e, ErrorKind::IsADirectory, libc::EISDIR, &sub);
        is_dir(fs::read(&sub).await.unwrap_err());
        is_dir(fs::read_to_string(&sub).await.unwrap_err());
        is_dir(fs::write(&sub, b"x").await.unwrap_err());
        is_dir(fs::remove_file(&sub).await.unwrap_err());
        let e = fs::copy(&sub, dir.join("copy")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert_names(&e, &sub);
        assert!(fs::metadata(&sub).await.unwrap().is_dir());

        // And a file where a directory is expected.
        let file = dir.join("file");
        fs::write(&file, b"x").await.unwrap();
        let not_dir = |e: io::Error, p: &Path| {
            assert_os_error(&e, ErrorKind::NotADirectory, libc::ENOTDIR, p)
        };
        not_dir(fs::remove_dir(&file).await.unwrap_err(), &file);
        not_dir(fs::read_dir(&file).await.unwrap_err(), &file);
        let below = file.join("below");
        not_dir(fs::read(&below).await.unwrap_err(), &below);
        not_dir(fs::create_dir(&below).await.unwrap_err(), &below);
        not_dir(fs::metadata(&below).await.unwrap_err(), &below);
        assert_eq!(fs::read(&file).await.unwrap(), b"x");
    });
}

#[cfg(unix)]
#[test]
fn no_permission() {
    if is_root() {
        eprintln!(
            "SKIPPED: no_permission (running as root, which bypasses file permissions; \
             run the tests as an ordinary user to check PermissionDenied)"
        );
        return;
    }
    each_runtime("no_permission", |dir| async move {
        let secret = dir.join("secret");
        fs::write(&secret, b"hidden").await.unwrap();
        fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000))
            .await
            .unwrap();
        let denied = |e: io::Error, p: &Path| {
            assert_os_error(&e, ErrorKind::PermissionDenied, libc::EACCES, p)
        };
        denied(fs::read(&secret).await.unwrap_err(), &secret);
        denied(fs::read_to_string(&secret).await.unwrap_err(), &secret);
        denied(fs::write(&secret, b"x").await.unwrap_err(), &secret);
        denied(
            fs::copy(&secret, dir.join("copy")).await.unwrap_err(),
            &secret,
        );

        // A directory without write permission: nothing can be created in it.
        let locked = dir.join("locked");
        fs::create_dir(&locked).await.unwrap();
        fs::write(locked.join("inside"), b"x").await.unwrap();
        fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500))
            .await
            .unwrap();
        let new = locked.join("new");
        denied(fs::write(&new, b"x").await.unwrap_err(), &new);
        denied(fs::create_dir(&new).await.unwrap_err(), &new);
        denied(
            fs::remove_file(locked.join("inside")).await.unwrap_err(),
            &locked.join("inside"),
        );
        fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))
            .await
            .unwrap();
        denied(fs::read_dir(&locked).await.unwrap_err(), &locked);
        fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755))
            .await
            .unwrap();
    });
}

/// ENAMETOOLONG, reported as the OS error (whatever kind std maps it to) or as
/// `InvalidInput`: never a panic, never a success.
#[cfg(unix)]
#[track_caller]
fn assert_too_long(result: io::Result<impl std::fmt::Debug>, what: &str) {
    let e = match result {
        Ok(v) => panic!("{what}: a name that is too long succeeded: {v:?}"),
        Err(e) => e,
    };
    assert!(
        errno(&e) == Some(libc::ENAMETOOLONG) || e.kind() == ErrorKind::InvalidInput,
        "{what}: expected ENAMETOOLONG or InvalidInput, got {:?}: {e}",
        e.kind()
    );
}

#[cfg(unix)]
#[test]
fn names_over_name_max_and_paths_over_path_max() {
    each_runtime("too_long", |dir| async move {
        let long_name = dir.join("n".repeat(300));
        // Components of 200 bytes, 25 of them: over PATH_MAX (4096) in all.
        let mut long_path = dir.clone();
        for i in 0..25 {
            long_path.push(format!("{i:03}{}", "p".repeat(197)));
        }
        assert!(long_path.as_os_str().len() > libc::PATH_MAX as usize);
        let ok = dir.join("ok");
        fs::write(&ok, b"ok").await.unwrap();

        for (what, p) in [("name", &long_name), ("path", &long_path)] {
            assert_too_long(fs::write(p, b"x").await, &format!("write {what}"));
            assert_too_long(fs::read(p).await, &format!("read {what}"));
            assert_too_long(
                fs::read_to_string(p).await,
                &format!("read_to_string {what}"),
            );
            assert_too_long(fs::metadata(p).await, &format!("metadata {what}"));
            assert_too_long(
                fs::symlink_metadata(p).await,
                &format!("symlink_metadata {what}"),
            );
            // realpath walks the path one component at a time, so a long path
            // whose first component is missing is NotFound before it is too long.
            match fs::canonicalize(p).await {
                Err(e) if what == "path" && e.kind() == ErrorKind::NotFound => {}
                other => assert_too_long(other, &format!("canonicalize {what}")),
            }
            assert_too_long(fs::read_link(p).await, &format!("read_link {what}"));
            assert_too_long(fs::create_dir(p).await, &format!("create_dir {what}"));
            assert_too_long(
                fs::create_dir_all(p).await,
                &format!("create_dir_all {what}"),
            );
            assert_too_long(fs::remove_file(p).await, &format!("remove_file {what}"));
            assert_too_long(fs::remove_dir(p).await, &format!("remove_dir {what}"));
            assert_too_long(
                fs::remove_dir_all(p).await,
                &format!("remove_dir_all {what}"),
            );
            assert_too_long(fs::read_dir(p).await, &format!("read_dir {what}"));
            assert_too_long(fs::try_exists(p).await, &format!("try_exists {what}"));
            assert_too_long(
                fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).await,
                &format!("set_permissions {what}"),
            );
            assert_too_long(fs::copy(&ok, p).await, &format!("copy to {what}"));
            assert_too_long(fs::copy(p, &ok).await, &format!("copy from {what}"));
            assert_too_long(fs::rename(&ok, p).await, &format!("rename to {what}"));
            assert_too_long(fs::hard_link(&ok, p).await, &format!("hard_link {what}"));
            assert_too_long(fs::symlink(&ok, p).await, &format!("symlink {what}"));
        }
        // Nothing moved, nothing was left behind.
        assert_eq!(fs::read(&ok).await.unwrap(), b"ok");
        let mut left = fs::read_dir(&dir).await.unwrap();
        let mut names = Vec::new();
        while let Some(entry) = left.next_entry().await.unwrap() {
            names.push(entry.file_name());
        }
        let mut created_dir = dir.clone();
        created_dir.push(long_path.strip_prefix(&dir).unwrap().iter().next().unwrap());
        // create_dir_all of the long path may make the first components before
        // the kernel refuses the rest; the long name itself never appears.
        names.retain(|n| n != "ok" && Path::new(n) != created_dir.file_name().unwrap());
        assert!(names.is_empty(), "left behind: {names:?}");
    });
}

// ----------------------------------------------------------------- read_dir

const ENTRIES: usize = 10_000;

fn populate(dir: &Path) -> HashSet<OsString> {
    let mut expected = HashSet::with_capacity(ENTRIES);
    for i in 0..ENTRIES {
        let name = format!("entry-{i:05}");
        std::fs::write(dir.join(&name), i.to_string()).unwrap();
        expected.insert(OsString::from(name));
    }
    expected
}

/// Every name in `expected` once, and nothing else.
#[track_caller]
fn assert_each_once(seen: Vec<OsString>, expected: &HashSet<OsString>, how: &str) {
    assert_eq!(seen.len(), expected.len(), "{how}: wrong number of entries");
    let mut once = HashSet::with_capacity(seen.len());
    for name in seen {
        assert!(expected.contains(&name), "{how}: unexpected entry {name:?}");
        assert!(once.insert(name.clone()), "{how}: {name:?} seen twice");
    }
}

#[test]
fn read_dir_of_10000_entries_with_next_entry() {
    each_runtime("read_dir_next", |dir| async move {
        let expected = populate(&dir);
        let mut read = fs::read_dir(&dir).await.unwrap();
        let mut seen = Vec::with_capacity(ENTRIES);
        while let Some(entry) = read.next_entry().await.unwrap() {
            let name = entry.file_name();
            assert_eq!(entry.path(), dir.join(&name));
            assert!(entry.file_type().await.unwrap().is_file());
            if seen.len() % 1000 == 0 {
                let meta = entry.metadata().await.unwrap();
                #[cfg(unix)]
                assert_eq!(meta.ino(), entry.ino());
                let i: usize = name.to_str().unwrap()[6..].parse().unwrap();
                assert_eq!(meta.len(), i.to_string().len() as u64);
            }
            seen.push(name);
        }
        assert_each_once(seen, &expected, "next_entry");
        // The end stays the end.
        assert!(read.next_entry().await.unwrap().is_none());
        assert!(read.next_entry().await.unwrap().is_none());
    });
}

#[test]
fn read_dir_of_10000_entries_as_a_stream() {
    each_runtime("read_dir_stream", |dir| async move {
        let expected = populate(&dir);
        let mut read = fs::read_dir(&dir).await.unwrap();
        let mut seen = Vec::with_capacity(ENTRIES);
        while let Some(entry) = read.next().await {
            seen.push(entry.unwrap().file_name());
        }
        assert_each_once(seen, &expected, "Stream::next");
        assert!(read.next().await.is_none());

        // collect() over a fresh ReadDir, too.
        let all: Vec<io::Result<fs::DirEntry>> = fs::read_dir(&dir).await.unwrap().collect().await;
        let seen = all.into_iter().map(|e| e.unwrap().file_name()).collect();
        assert_each_once(seen, &expected, "collect");
    });
}

#[cfg(unix)]
#[test]
fn read_dir_file_types_and_small_directories() {
    each_runtime("read_dir_types", |dir| async move {
        // Empty: the end at once.
        let empty = dir.join("empty");
        fs::create_dir(&empty).await.unwrap();
        let mut read = fs::read_dir(&empty).await.unwrap();
        assert!(read.next_entry().await.unwrap().is_none());

        let mixed = dir.join("mixed");
        fs::create_dir(&mixed).await.unwrap();
        fs::write(mixed.join("file"), b"f").await.unwrap();
        fs::create_dir(mixed.join("subdir")).await.unwrap();
        fs::symlink(mixed.join("file"), mixed.join("link"))
            .await
            .unwrap();
        let mut read = fs::read_dir(&mixed).await.unwrap();
        let mut kinds = Vec::new();
        while let Some(entry) = read.next_entry().await.unwrap() {
            let t = entry.file_type().await.unwrap();
            let m = entry.metadata().await.unwrap();
            // Neither follows the link.
            assert_eq!(t, m.file_type(), "{:?}", entry.path());
            let kind = if t.is_symlink() {
                "link"
            } else if t.is_dir() {
                "subdir"
            } else {
                "file"
            };
            assert_eq!(entry.file_name(), kind);
            kinds.push(kind);
        }
        kinds.sort_unstable();
        assert_eq!(kinds, ["file", "link", "subdir"]);

        // An entry removed after it was listed: metadata is NotFound, naming it.
        let mut read = fs::read_dir(&mixed).await.unwrap();
        let entry = loop {
            let e = read.next_entry().await.unwrap().unwrap();
            if e.file_name() == "file" {
                break e;
            }
        };
        fs::remove_file(entry.path()).await.unwrap();
        let e = entry.metadata().await.unwrap_err();
        assert_os_error(&e, ErrorKind::NotFound, libc::ENOENT, &entry.path());
        // The file type was read with the entry and is still known.
        assert!(entry.file_type().await.unwrap().is_file());
    });
}

#[test]
fn read_dir_types_are_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin + 'static>() {}
    check::<fs::ReadDir>();
    check::<fs::DirEntry>();
}

#[test]
fn read_dir_outside_a_runtime_is_an_error_not_a_panic() {
    run_with_timeout(BODY_GUARD, || {
        let dir = TempDir::new("outside");
        for i in 0..100 {
            std::fs::write(dir.path.join(format!("f{i}")), b"").unwrap();
        }
        let e = futures::executor::block_on(fs::read_dir(&dir.path)).unwrap_err();
        assert!(e.to_string().contains("runtime"), "{e}");

        // A ReadDir made inside a runtime, read on after the runtime is gone: the
        // batch at hand comes out, then an error (again and again), not a panic.
        let rt = common::current_thread();
        let mut read = rt.block_on(fs::read_dir(&dir.path)).unwrap();
        drop(rt);
        futures::executor::block_on(async {
            let mut seen = 0;
            let e = loop {
                match read.next_entry().await {
                    Ok(Some(_)) => seen += 1,
                    Ok(None) => panic!("the directory ended without a runtime after {seen}"),
                    Err(e) => break e,
                }
            };
            assert!(seen > 0 && seen < 100, "{seen} entries before the error");
            assert!(e.to_string().contains("runtime"), "{e}");
            assert!(read.next_entry().await.is_err());
        });
    });
}
