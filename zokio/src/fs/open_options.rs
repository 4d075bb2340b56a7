//! `OpenOptions`: how to open a file (read, write, append, truncate, create,
//! create_new, mode, custom flags), as in `tokio::fs::OpenOptions`. Opening is an
//! `openat` ring operation where the ring has it, else a blocking-pool call; the
//! error names the path either way. Must never open on a worker thread.

use std::io;
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
#[cfg(windows)]
use std::os::windows::fs::OpenOptionsExt;
use std::path::Path;

use super::blocking::{asyncify, path_error};
#[cfg(unix)]
use super::native::{path_call, PathOp};
use super::File;

/// Options for opening a file; see `std::fs::OpenOptions`.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// For the blocking-pool path.
    std: std::fs::OpenOptions,
    /// The same choices, for the `openat` flags. Kept on every system so that the
    /// setters stay one code; read only where a ring may open the file (Unix).
    #[cfg_attr(not(unix), allow(dead_code))]
    flags: Flags,
    /// Made from a `std::fs::OpenOptions`, whose choices cannot be read back:
    /// `flags` is then incomplete, and opening always goes through `std`.
    #[cfg_attr(not(unix), allow(dead_code))]
    from_std: bool,
    /// Windows: `access_mode` replaced what read/write/append ask for.
    #[cfg(windows)]
    access_mode_set: bool,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(unix), allow(dead_code))]
struct Flags {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
    custom: i32,
}

#[cfg(unix)]
impl Flags {
    /// The `open(2)` flags, as `std` computes them; `None` for a combination `std`
    /// refuses (the blocking path then gives `std`'s own error).
    fn open_flags(&self) -> Option<i32> {
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return None,
        };
        match (self.write, self.append) {
            (true, false) => {}
            (false, false) if self.truncate || self.create || self.create_new => return None,
            (_, true) if self.truncate && !self.create_new => return None,
            _ => {}
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (false, false, false) => 0,
        };
        Some(access | creation | (self.custom & !libc::O_ACCMODE))
    }
}

impl OpenOptions {
    /// No access at all yet; add what is needed.
    pub fn new() -> OpenOptions {
        OpenOptions {
            std: std::fs::OpenOptions::new(),
            flags: Flags {
                read: false,
                write: false,
                append: false,
                truncate: false,
                create: false,
                create_new: false,
                mode: 0o666,
                custom: 0,
            },
            from_std: false,
            #[cfg(windows)]
            access_mode_set: false,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.std.read(read);
        self.flags.read = read;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.std.write(write);
        self.flags.write = write;
        self
    }

    /// Every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.std.append(append);
        self.flags.append = append;
        self
    }

    /// Cut the file to length 0 when opening.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.std.truncate(truncate);
        self.flags.truncate = truncate;
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.std.create(create);
        self.flags.create = create;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.std.create_new(create_new);
        self.flags.create_new = create_new;
        self
    }

    /// The permission bits a created file gets (before the umask). Unix only.
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.std.mode(mode);
        self.flags.mode = mode;
        self
    }

    /// Extra `open(2)` flags, such as `O_DIRECT` or `O_NOATIME`. Unix only.
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.std.custom_flags(flags);
        self.flags.custom = flags;
        self
    }

    /// Open `path` with these options.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        #[cfg(unix)]
        if let Some(flags) = self.flags.open_flags().filter(|_| !self.from_std) {
            let op = PathOp::Open {
                flags,
                mode: self.flags.mode,
            };
            if let Some(opened) = path_call(&path, op).await {
                return match opened {
                    Ok(Some(fd)) => Ok(File::from_std(fd.into())),
                    Ok(None) => unreachable!("an open returns a descriptor"),
                    Err(e) => Err(path_error(e, "open", &path)),
                };
            }
        }
        let options = self.std.clone();
        let std = asyncify(move || {
            options
                .open(&path)
                .map_err(|e| path_error(e, "open", &path))
        })
        .await?;
        // What the handle may do, when these options say it: positioned I/O on IOCP
        // needs to know (`overlapped.rs`).
        #[cfg(windows)]
        if !self.from_std && !self.access_mode_set {
            let Flags {
                read,
                write,
                append,
                ..
            } = self.flags;
            return Ok(File::opened_with(std, read, write && !append));
        }
        Ok(File::from_std(std))
    }
}

/// Windows' own choices, as `std::os::windows::fs::OpenOptionsExt` and tokio have
/// them; opening always goes through `std` there.
#[cfg(windows)]
impl OpenOptions {
    /// The `dwDesiredAccess` of `CreateFileW`, in place of read/write/append.
    pub fn access_mode(&mut self, access: u32) -> &mut OpenOptions {
        self.std.access_mode(access);
        self.access_mode_set = true;
        self
    }

    /// The `dwShareMode` of `CreateFileW`: what other openers may do meanwhile.
    pub fn share_mode(&mut self, share: u32) -> &mut OpenOptions {
        self.std.share_mode(share);
        self
    }

    /// Extra `dwFlagsAndAttributes` flags of `CreateFileW`.
    pub fn custom_flags(&mut self, flags: u32) -> &mut OpenOptions {
        self.std.custom_flags(flags);
        self
    }

    /// The file attributes of `CreateFileW` (for a file it creates).
    pub fn attributes(&mut self, attributes: u32) -> &mut OpenOptions {
        self.std.attributes(attributes);
        self
    }

    /// The security quality of service flags of `CreateFileW`.
    pub fn security_qos_flags(&mut self, flags: u32) -> &mut OpenOptions {
        self.std.security_qos_flags(flags);
        self
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        // Its choices cannot be read back, so it always opens on the blocking pool,
        // also after more choices are added to it.
        let mut converted = OpenOptions::new();
        converted.std = options;
        converted.from_std = true;
        converted
    }
}
