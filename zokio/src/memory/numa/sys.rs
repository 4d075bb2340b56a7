//! The system calls behind NUMA placement: a thread's CPU affinity, and the memory
//! policy of a range of pages. `mbind` and `get_mempolicy` are raw system calls, as
//! the C library has no wrapper for them without libnuma.
//!
//! Every call reports failure as an `io::Error` and none may panic: a kernel without
//! NUMA support or a sandbox that forbids these calls is an ordinary case.
//!
//! All of this is Linux only. Elsewhere the kernel says nothing about the allowed
//! CPUs (so the machine is one node), pinning does nothing and no memory is bound.

// Under Miri and loom the pool takes its segments from the global allocator and
// binds nothing (`pool/pages.rs`).
#![cfg_attr(any(miri, loom), allow(dead_code))]

use std::io;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

#[cfg(target_os = "linux")]
/// `MPOL_PREFERRED` from `<linux/mempolicy.h>`: allocate on the given node when it
/// has free memory, elsewhere otherwise (never an allocation failure).
const MPOL_PREFERRED: libc::c_int = 1;
/// `get_mempolicy` flags: return a node number, for the page at the given address.
#[cfg(all(test, target_os = "linux"))]
const MPOL_F_NODE: libc::c_ulong = 1 << 0;
#[cfg(all(test, target_os = "linux"))]
const MPOL_F_ADDR: libc::c_ulong = 1 << 1;

#[cfg(target_os = "linux")]
/// Node masks passed to the kernel hold this many bits (the kernel's usual
/// `MAX_NUMNODES` ceiling); nodes beyond are not bound.
const MASK_BITS: usize = 1024;
#[cfg(target_os = "linux")]
const WORD_BITS: usize = libc::c_ulong::BITS as usize;

#[cfg(target_os = "linux")]
/// The CPUs the calling thread may run on, ascending; `None` if the kernel does not
/// say.
pub(crate) fn allowed_cpus() -> Option<Vec<usize>> {
    // SAFETY: `cpu_set_t` is plain bits; all zeroes is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live, writable `cpu_set_t` of the size passed.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return None;
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, inside the set.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    Some(cpus)
}

#[cfg(target_os = "linux")]
/// Pins the calling thread to `cpus` (those the kernel's set type can hold).
pub(crate) fn pin_current_thread(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: all zeroes is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let mut any = false;
    for &cpu in cpus.iter().filter(|&&cpu| cpu < libc::CPU_SETSIZE as usize) {
        // SAFETY: `cpu` is below CPU_SETSIZE, inside the set.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        any = true;
    }
    if !any {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "none of these CPU numbers fits the kernel's CPU set",
        ));
    }
    // SAFETY: `set` is a live `cpu_set_t` of the size passed; the call only reads it.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(target_os = "linux")]
/// Whether a refused `mbind` was already logged (once per process is enough).
static BIND_REFUSAL_LOGGED: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
/// Asks the kernel to place the pages of `[addr, addr + len)`, not yet touched, on
/// `node` when it can (`MPOL_PREFERRED`). A refusal (no NUMA support, a sandbox, a
/// node the kernel does not know) is logged once at debug level and otherwise
/// ignored: the pages then follow the thread's policy, first touch by default.
/// Returns whether the kernel took the policy.
///
/// # Safety
/// The range is a mapping the caller owns (`addr` page-aligned); only its policy
/// changes, never its contents.
pub(crate) unsafe fn bind_segment(addr: *mut u8, len: usize, node: usize) -> bool {
    if node >= MASK_BITS {
        return false;
    }
    let mut mask = [0 as libc::c_ulong; MASK_BITS / WORD_BITS];
    mask[node / WORD_BITS] |= 1 << (node % WORD_BITS);
    // SAFETY: the caller owns the mapping; `mask` is live for the call and holds
    // MASK_BITS bits, the kernel reading `maxnode - 1` of them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mbind,
            addr,
            len,
            MPOL_PREFERRED,
            mask.as_ptr(),
            MASK_BITS + 1,
            0 as libc::c_uint,
        )
    };
    if rc != 0 && !BIND_REFUSAL_LOGGED.swap(true, Relaxed) {
        log::debug!(
            "NUMA: the kernel refused to place pool memory on node {node} ({}); pools rely \
             on first touch by their pinned worker instead",
            io::Error::last_os_error()
        );
    }
    rc == 0
}

/// Without Linux's affinity calls the allowed CPUs are not known.
#[cfg(not(target_os = "linux"))]
pub(crate) fn allowed_cpus() -> Option<Vec<usize>> {
    None
}

/// Without Linux's affinity calls threads are not pinned: nothing to do, and
/// nothing to report (the machine counts as one node, whose CPUs are all of them).
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin_current_thread(_cpus: &[usize]) -> io::Result<()> {
    Ok(())
}

/// Without `mbind` the pages follow first touch, as after a refusal on Linux.
///
/// # Safety
/// As on Linux (nothing is done here).
#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn bind_segment(_addr: *mut u8, _len: usize, _node: usize) -> bool {
    false
}

/// The policy mode (`MPOL_*`) of the mapping holding `addr`.
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn policy_of_address(addr: *const u8) -> io::Result<libc::c_int> {
    let mut mode: libc::c_int = -1;
    // SAFETY: `mode` is live and writable; no mask is passed (null, 0); the kernel
    // only looks up the mapping at `addr`, which the caller keeps mapped.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_get_mempolicy,
            &mut mode as *mut libc::c_int,
            std::ptr::null_mut::<libc::c_ulong>(),
            0 as libc::c_ulong,
            addr,
            MPOL_F_ADDR,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(mode)
}

/// `MPOL_PREFERRED`, for tests that read a policy back.
#[cfg(all(test, target_os = "linux"))]
pub(crate) const PREFERRED: libc::c_int = MPOL_PREFERRED;

/// The node that holds the page at `addr` (faulting it in if needed).
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn node_of_address(addr: *const u8) -> io::Result<usize> {
    let mut node: libc::c_int = -1;
    // SAFETY: `node` is live and writable; no mask is passed (null, 0); the kernel
    // only looks up the page at `addr`, which the caller keeps mapped.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_get_mempolicy,
            &mut node as *mut libc::c_int,
            std::ptr::null_mut::<libc::c_ulong>(),
            0 as libc::c_ulong,
            addr,
            MPOL_F_NODE | MPOL_F_ADDR,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    usize::try_from(node).map_err(|_| io::Error::other("get_mempolicy gave no node"))
}
