//! Files and directories, with `tokio::fs`'s names and signatures.
//!
//! On io_uring, opening, reading, writing, syncing and truncating files, whole-file
//! `read`, `try_exists`, and creating, removing and renaming entries are
//! ring operations wherever the kernel has the opcode (probed once per process).
//! On Windows (IOCP), `File::read_at` and `write_at` are overlapped `ReadFile` and
//! `WriteFile` calls. Everything else, and everything on the readiness drivers
//! (epoll, kqueue, poll), runs on the blocking pool over `std::fs`. Errors name the
//! operation and the path.
//!
//! What differs by system is what `std` and tokio make differ: `symlink`,
//! `DirBuilder::mode`, `OpenOptions::mode`/`custom_flags` and `DirEntry::ino` are
//! Unix's; Windows has `symlink_file`, `symlink_dir` and its own `OpenOptions`
//! choices.

mod blocking;
mod dir;
mod dir_builder;
mod file;
mod file_poll;
mod native;
mod open_options;
#[cfg(windows)]
mod overlapped;
mod paths;
mod positioned;
// Whole-file reads on the ring: Linux only, as rings are.
#[cfg(target_os = "linux")]
mod whole;

pub use dir::{read_dir, DirEntry, ReadDir};
pub use dir_builder::DirBuilder;
pub use file::File;
pub use open_options::OpenOptions;
#[cfg(unix)]
pub use paths::symlink;
pub use paths::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions,
    symlink_metadata, try_exists, write,
};
#[cfg(windows)]
pub use paths::{symlink_dir, symlink_file};
/// The times `File::set_times` applies (`std`'s type, which tokio's mirrors).
pub use std::fs::FileTimes;
