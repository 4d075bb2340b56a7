//! Files and directories, with `tokio::fs`'s names and signatures.
//!
//! This first layer runs every call on the blocking pool, on both drivers (the
//! fallback the io_uring-native operations will sit on top of). Positioned reads
//! and writes with owned buffers on a `File` are native: ring operations on
//! io_uring. Errors name the operation and the path.

mod blocking;
mod dir;
mod file;
mod file_poll;
mod native;
mod open_options;
mod paths;

pub use dir::{read_dir, DirEntry, ReadDir};
pub use file::File;
pub use open_options::OpenOptions;
pub use paths::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write,
};
