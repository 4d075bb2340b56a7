//! The free functions of `zokio::fs` that work on paths (`read`, `write`, `rename`,
//! `metadata`...), with `tokio::fs`'s names and signatures. `read`,
//! `read_to_string` and `try_exists` (`whole.rs`), and `remove_file`,
//! `remove_dir`, `create_dir` and `rename` are ring operations where the worker's
//! ring has the opcodes; the rest, and those elsewhere, run on the blocking pool
//! (`std::fs::Metadata` can only come from `std`). An error names the operation
//! and the path and keeps the OS error as its `source()`. Must never block a
//! worker thread.

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

#[cfg(target_os = "linux")]
use super::blocking::Quoted;
use super::blocking::{asyncify, path_error, paths_error};
#[cfg(target_os = "linux")]
use super::native::native;
use super::native::{native_or, path_op};
#[cfg(target_os = "linux")]
use super::whole;
use super::DirBuilder;
#[cfg(unix)]
use crate::driver::op::path::{c_path, PathOp};

macro_rules! one_path {
    ($(#[$doc:meta])* $name:ident($path:ident) -> $out:ty = $op:literal, $call:expr) => {
        $(#[$doc])*
        pub async fn $name(path: impl AsRef<Path>) -> io::Result<$out> {
            let $path = path.as_ref().to_owned();
            asyncify(move || $call.map_err(|e| path_error(e, $op, &$path))).await
        }
    };
}

/// The whole contents of a file (`openat`, `statx` and `read`s on the ring where
/// it has them).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    #[cfg(target_os = "linux")]
    if whole::native_whole_files() {
        return whole::read(path)
            .await
            .map_err(|e| path_error(e, "read", path));
    }
    let path = path.to_owned();
    asyncify(move || std::fs::read(&path).map_err(|e| path_error(e, "read", &path))).await
}

/// The whole contents of a file as UTF-8 (`InvalidData` if it is not).
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref();
    #[cfg(target_os = "linux")]
    if whole::native_whole_files() {
        let bytes = whole::read(path)
            .await
            .map_err(|e| path_error(e, "read", path))?;
        return String::from_utf8(bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "read {}: the file is not valid UTF-8 ({e}); read it with `fs::read` \
                     for its bytes",
                    Quoted(&path.display().to_string())
                ),
            )
        });
    }
    let path = path.to_owned();
    asyncify(move || std::fs::read_to_string(&path).map_err(|e| path_error(e, "read", &path))).await
}
one_path!(
    /// Remove a directory and everything in it.
    remove_dir_all(path) -> () = "remove directory tree", std::fs::remove_dir_all(&path)
);
one_path!(
    /// Metadata, following symbolic links.
    metadata(path) -> Metadata = "metadata of", std::fs::metadata(&path)
);
one_path!(
    /// Metadata of the link itself, not following it.
    symlink_metadata(path) -> Metadata = "metadata of", std::fs::symlink_metadata(&path)
);
one_path!(
    /// The absolute path with every link and `..` resolved.
    canonicalize(path) -> PathBuf = "canonicalize", std::fs::canonicalize(&path)
);
one_path!(
    /// Where a symbolic link points.
    read_link(path) -> PathBuf = "read link", std::fs::read_link(&path)
);
/// Whether the path exists, following links; an error only when that cannot be
/// told (permissions). A ring `statx` where the ring has it.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref();
    #[cfg(target_os = "linux")]
    if native(io_uring::opcode::Statx::CODE) {
        return whole::try_exists(path)
            .await
            .map_err(|e| path_error(e, "check existence of", path));
    }
    let path = path.to_owned();
    asyncify(move || {
        path.try_exists()
            .map_err(|e| path_error(e, "check existence of", &path))
    })
    .await
}

/// Remove a file (`unlinkat` on the ring where it has it).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let op = path_op!(PathOp::Unlink { dir: false });
    native_or(path.as_ref(), None, "remove file", op, |p| {
        std::fs::remove_file(p)
    })
    .await
}

/// Remove an empty directory (`unlinkat` on the ring where it has it).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let op = path_op!(PathOp::Unlink { dir: true });
    native_or(path.as_ref(), None, "remove directory", op, |p| {
        std::fs::remove_dir(p)
    })
    .await
}

/// Create a directory; its parent must exist (`mkdirat` on the ring where it has it).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    DirBuilder::new().create(path).await
}

/// Create a directory and any missing parents; an existing directory is success.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    DirBuilder::new().recursive(true).create(path).await
}

/// Write `contents` to a file, creating it or replacing what it held. On the
/// blocking pool with either driver: see `whole.rs` for why not on the ring.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::write(&path, contents).map_err(|e| path_error(e, "write", &path)))
        .await
}

/// Copy a file's contents and permissions; returns the bytes copied.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(&from, &to).map_err(|e| paths_error(e, "copy", &from, &to)))
        .await
}

/// Rename `from` to `to`, replacing `to` if it exists (`renameat` on the ring
/// where it has it).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    let op = path_op!(PathOp::Rename {
        to: c_path(&to).map_err(|e| paths_error(e, "rename", &from, &to))?,
    });
    let dest = to.clone();
    native_or(&from, Some(&to), "rename", op, move |from| {
        std::fs::rename(from, &dest)
    })
    .await
}

/// Make `dst` a hard link to `src`.
pub async fn hard_link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || {
        std::fs::hard_link(&src, &dst).map_err(|e| paths_error(e, "hard link", &src, &dst))
    })
    .await
}

/// Make `dst` a symbolic link to `src` (Unix; on Windows see `symlink_file` and
/// `symlink_dir`).
#[cfg(unix)]
pub async fn symlink(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || {
        std::os::unix::fs::symlink(&src, &dst).map_err(|e| paths_error(e, "symlink", &src, &dst))
    })
    .await
}

/// Make `dst` a symbolic link to the file `src` (Windows).
#[cfg(windows)]
pub async fn symlink_file(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || {
        std::os::windows::fs::symlink_file(&src, &dst)
            .map_err(|e| paths_error(e, "symlink", &src, &dst))
    })
    .await
}

/// Make `dst` a symbolic link to the directory `src` (Windows).
#[cfg(windows)]
pub async fn symlink_dir(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || {
        std::os::windows::fs::symlink_dir(&src, &dst)
            .map_err(|e| paths_error(e, "symlink", &src, &dst))
    })
    .await
}

/// Change a file's permissions.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || {
        std::fs::set_permissions(&path, perm)
            .map_err(|e| path_error(e, "set permissions of", &path))
    })
    .await
}
