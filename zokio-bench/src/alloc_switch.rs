//! The bench's global allocator: the system's, or mimalloc, chosen once per
//! process from the `ZOKIO_BENCH_ALLOCATOR` environment variable.
//!
//! The memory group holds Zokio's pools against a good general-purpose
//! allocator, and a global allocator is process-wide, so that contender runs
//! in a child process of this same binary started with the variable set
//! (`memory_child`). The choice is made by the very first allocation, before
//! `main` (the runtime's own start-up allocates), and never changes after,
//! so every block is freed by the allocator that made it. Reading the
//! variable must not allocate, hence `libc::getenv` rather than `std::env`.
//!
//! Every allocation of the process goes through here: this file must never
//! allocate, lock or print, and must stay a load and a branch per call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::CStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// The variable that picks the allocator: `mimalloc`, or `system` (the
/// default when it is unset).
pub const ENV: &str = "ZOKIO_BENCH_ALLOCATOR";
const ENV_C: &CStr = c"ZOKIO_BENCH_ALLOCATOR";

/// The global allocators the bench can run under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocator {
    System,
    Mimalloc,
}

impl Allocator {
    pub fn name(self) -> &'static str {
        match self {
            Allocator::System => "system",
            Allocator::Mimalloc => "mimalloc",
        }
    }
}

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

static CHOSEN: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The value of [`ENV`] as the allocator reads it: `mimalloc` picks
/// mimalloc, anything else the system allocator ([`check_env`] rejects
/// values other than these two, from `main`).
fn from_env() -> u8 {
    // SAFETY: `ENV_C` is a NUL-terminated name. This runs only for the
    // process's first allocation, on the main thread before it starts any
    // other, and the bench never changes its own environment anyway (children
    // get theirs through `Command::env`), so no `setenv` can run concurrently
    // and invalidate the returned string.
    let value = unsafe { libc::getenv(ENV_C.as_ptr()) };
    if value.is_null() {
        return SYSTEM;
    }
    // SAFETY: `getenv` returned a NUL-terminated string that lives as long as
    // the environment, which is never modified (above).
    let value = unsafe { CStr::from_ptr(value) };
    if value.to_bytes() == b"mimalloc" {
        MIMALLOC
    } else {
        SYSTEM
    }
}

#[inline]
fn chosen() -> u8 {
    match CHOSEN.load(Ordering::Relaxed) {
        UNDECIDED => decide(),
        known => known,
    }
}

/// The first allocation decides. Every caller reads the same environment,
/// so a race between two first allocations (there is none before `main`
/// starts threads) would still agree; the first stored value wins anyway.
#[cold]
fn decide() -> u8 {
    let choice = from_env();
    match CHOSEN.compare_exchange(UNDECIDED, choice, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => choice,
        Err(already) => already,
    }
}

/// The allocator this process runs under.
pub fn current() -> Allocator {
    if chosen() == MIMALLOC {
        Allocator::Mimalloc
    } else {
        Allocator::System
    }
}

/// An error naming the valid values when [`ENV`] holds anything else (the
/// allocator itself cannot report one: it must not allocate).
pub fn check_env() -> Result<(), String> {
    check_value(std::env::var_os(ENV).as_deref())
}

fn check_value(value: Option<&std::ffi::OsStr>) -> Result<(), String> {
    match value {
        None => Ok(()),
        Some(v) if v == "system" || v == "mimalloc" => Ok(()),
        Some(v) => Err(format!(
            "{ENV}={v:?} is not an allocator this bench knows: use `system` or `mimalloc` \
             (or unset it)"
        )),
    }
}

/// The `#[global_allocator]`: forwards each call to the allocator chosen at
/// start-up.
pub struct Switch;

// SAFETY: every method forwards to one of two sound global allocators, and the
// same one for the whole life of the process (`CHOSEN` is written once, by the
// first allocation, and never again), so a block is always resized and freed
// by the allocator that made it, under the caller's own layout promises.
unsafe impl GlobalAlloc for Switch {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promises for `alloc` pass through unchanged.
        unsafe {
            if chosen() == MIMALLOC {
                mimalloc::MiMalloc.alloc(layout)
            } else {
                System.alloc(layout)
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if chosen() == MIMALLOC {
                mimalloc::MiMalloc.alloc_zeroed(layout)
            } else {
                System.alloc_zeroed(layout)
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this same allocator (the choice never
        // changes), with `layout`, as the caller promises.
        unsafe {
            if chosen() == MIMALLOC {
                mimalloc::MiMalloc.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, with the caller's promise on `new_size`.
        unsafe {
            if chosen() == MIMALLOC {
                mimalloc::MiMalloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_process_runs_under_what_its_environment_says() {
        let expected = match std::env::var_os(ENV) {
            Some(v) if v == "mimalloc" => Allocator::Mimalloc,
            _ => Allocator::System,
        };
        assert_eq!(current(), expected);
        // Allocations round-trip through the chosen allocator.
        let v: Vec<u64> = (0..10_000).collect();
        assert_eq!(v.iter().sum::<u64>(), 49_995_000);
    }

    /// Marks the child the next test starts.
    const CHILD: &str = "ZOKIO_BENCH_ALLOC_TEST_CHILD";

    #[test]
    fn a_child_started_with_the_variable_runs_under_mimalloc() {
        let name = "alloc_switch::tests::a_child_started_with_the_variable_runs_under_mimalloc";
        if std::env::var_os(CHILD).is_some() {
            assert_eq!(current(), Allocator::Mimalloc);
            let v: Vec<String> = (0..1_000).map(|i| i.to_string()).collect();
            assert_eq!(v[999], "999");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1"])
            .env(ENV, "mimalloc")
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {stdout}");
        assert!(
            stdout.contains("1 passed"),
            "the child ran no test: {stdout}"
        );
    }

    #[test]
    fn only_known_allocators_are_accepted() {
        use std::ffi::OsStr;
        assert!(check_value(None).is_ok());
        assert!(check_value(Some(OsStr::new("system"))).is_ok());
        assert!(check_value(Some(OsStr::new("mimalloc"))).is_ok());
        let e = check_value(Some(OsStr::new("jemalloc"))).unwrap_err();
        assert!(e.contains("use `system` or `mimalloc`"), "{e}");
    }

    #[test]
    fn allocator_names() {
        assert_eq!(Allocator::System.name(), "system");
        assert_eq!(Allocator::Mimalloc.name(), "mimalloc");
    }
}
