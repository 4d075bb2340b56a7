//! The one process-wide `signalfd` (non-blocking, close-on-exec) whose mask is every
//! signal with a listener but those chained to a handler of the program's own. It
//! receives what a runtime thread blocked: signals sent to a runtime thread itself,
//! and process-directed ones when every thread blocks them.
//! Made on first use and never closed, since readers in any runtime may wait on it.

use std::io;
use std::os::fd::RawFd;
use std::sync::OnceLock;

use super::mask::sigset;

/// The size of one record the kernel hands out.
pub(super) const RECORD: usize = std::mem::size_of::<libc::signalfd_siginfo>();

const FLAGS: libc::c_int = libc::SFD_NONBLOCK | libc::SFD_CLOEXEC;

/// The descriptor, made with an empty mask on first use.
pub(super) fn fd() -> io::Result<RawFd> {
    static FD: OnceLock<Result<RawFd, i32>> = OnceLock::new();
    super::descriptor_made_once(&FD, "signalfd", || {
        let empty = sigset(0);
        // SAFETY: -1 asks for a new descriptor; `empty` is a valid signal set.
        unsafe { libc::signalfd(-1, &empty, FLAGS) }
    })
}

/// Make `bits` (bit `n - 1` for signal `n`) the signals the descriptor receives.
pub(super) fn set_mask(bits: u64) -> io::Result<()> {
    let fd = fd()?;
    let set = sigset(bits);
    // The system call itself rather than libc's wrapper: changing the mask of a live
    // descriptor is not a new descriptor, but ThreadSanitizer's wrapper records it as
    // one, and so reports a reader's concurrent `read` as a race (the kernel orders
    // the two). The kernel's `signalfd4` takes the set's size, 8 bytes on Linux.
    // SAFETY: `fd` is our signalfd, open for good; `set` is a valid signal set, at
    // least the 8 bytes the kernel reads.
    if unsafe { libc::syscall(libc::SYS_signalfd4, fd, &set, 8usize, FLAGS) } < 0 {
        let os = io::Error::last_os_error();
        return Err(io::Error::new(
            os.kind(),
            format!("zokio::signal could not change its signalfd's mask: {os}"),
        ));
    }
    Ok(())
}

/// The signals named in the records of `bytes` (whole records, as a read returns).
pub(super) fn signals_in(bytes: &[u8]) -> u64 {
    bytes.chunks_exact(RECORD).fold(0, |bits, record| {
        // `ssi_signo`, the record's first field, a native-endian u32.
        let signo = u32::from_ne_bytes([record[0], record[1], record[2], record[3]]) as usize;
        if (1..=super::registry::MAX_SIGNAL).contains(&signo) {
            bits | super::registry::bit(signo)
        } else {
            bits
        }
    })
}
