//! `DirBuilder`: create a directory with a chosen mode, and optionally its missing
//! parents, as in `tokio::fs::DirBuilder`. A single directory is a ring `mkdirat`
//! where the ring has it; a recursive build walks the path on the blocking pool
//! (it is many dependent calls). Must never create anything the caller did not
//! name: an error on the way leaves what was created, as `std` does.

use std::io;
#[cfg(unix)]
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use super::blocking::{asyncify, path_error};
use super::native::{native_or, path_op};
#[cfg(unix)]
use crate::driver::op::path::PathOp;

/// How to create directories; see `std::fs::DirBuilder`.
#[derive(Clone, Debug)]
pub struct DirBuilder {
    recursive: bool,
    /// The permission bits (before the umask); `std`'s default is 0o777. Unix only.
    #[cfg(unix)]
    mode: u32,
}

impl DirBuilder {
    /// Not recursive, mode 0o777 (before the umask) on Unix.
    pub fn new() -> DirBuilder {
        DirBuilder {
            recursive: false,
            #[cfg(unix)]
            mode: 0o777,
        }
    }

    /// Also create missing parents, and succeed when the directory exists.
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of the directories created (before the umask). Unix only,
    /// as in `std` and tokio.
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = mode;
        self
    }

    /// Create `path` as configured.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        #[cfg(unix)]
        builder.mode(self.mode);
        let blocking = move |path: &Path| builder.create(path);
        if self.recursive {
            let path = path.to_owned();
            return asyncify(move || {
                blocking(&path).map_err(|e| path_error(e, "create directory", &path))
            })
            .await;
        }
        let op = path_op!(PathOp::Mkdir { mode: self.mode });
        native_or(path, None, "create directory", op, blocking).await
    }
}

impl Default for DirBuilder {
    fn default() -> DirBuilder {
        DirBuilder::new()
    }
}
