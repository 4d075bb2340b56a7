//! Files and directories, with `tokio::fs`'s names and signatures.
//!
//! On io_uring, opening, reading, writing, syncing and truncating files, whole-file
//! `read`, `try_exists`, and creating, removing and renaming entries are
//! ring operations wherever the kernel has the opcode (probed once per process).
//! Everything else, and everything on the epoll driver, runs on the blocking pool.
//! Errors name the operation and the path.

mod blocking;
mod dir;
mod dir_builder;
mod file;
mod file_poll;
mod native;
mod open_options;
mod paths;
// Whole-file reads on the ring: Linux only, as rings are.
#[cfg(target_os = "linux")]
mod whole;

pub use dir::{read_dir, DirEntry, ReadDir};
pub use dir_builder::DirBuilder;
pub use file::File;
pub use open_options::OpenOptions;
pub use paths::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write,
};
/// The times `File::set_times` applies (`std`'s type, which tokio's mirrors).
pub use std::fs::FileTimes;
