//! Choosing and building a runtime's drivers: io_uring or epoll, from the builder's
//! choice, else `ZOKIO_DRIVER`, else automatically.
//!
//! Auto tries io_uring first and falls back to epoll when a ring cannot be set up
//! (ENOSYS: no io_uring in this kernel; EPERM: a seccomp filter or the
//! `kernel.io_uring_disabled` sysctl; ENOMEM: the locked-memory limit), logging one
//! debug line with the reason. A forced io_uring that cannot be set up is an error
//! that says why and how to choose epoll. Nothing here may start a thread.

use std::io;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use super::local::{IoDriver, LocalDriver};
use super::shared::{DriverShared, Unparker};
use super::{Driver, DriverKind, Drivers};
use crate::time::clock::Clock;
use crate::time::driver::TimeDriver;

/// What the builder knows about drivers.
#[derive(Clone, Debug, Default)]
pub(crate) struct DriverOptions {
    /// `None`: follow `ZOKIO_DRIVER`, else Auto.
    pub(crate) choice: Option<Driver>,
    pub(crate) start_paused: bool,
    /// Test hook: ring set-up fails with this OS error, as on a machine without
    /// io_uring.
    pub(crate) simulate_uring_failure: Option<i32>,
}

/// The environment variable that picks a driver when the builder does not.
pub(crate) const ENV: &str = "ZOKIO_DRIVER";

fn env_choice() -> io::Result<Option<Driver>> {
    let Some(value) = std::env::var_os(ENV) else {
        return Ok(None);
    };
    match value.to_str().map(str::trim) {
        Some("auto") | Some("") => Ok(Some(Driver::Auto)),
        Some("io_uring") | Some("io-uring") | Some("uring") => Ok(Some(Driver::IoUring)),
        Some("epoll") => Ok(Some(Driver::Epoll)),
        other => {
            let message = match other.and_then(other_platform_driver) {
                Some(what) => format!(
                    "{ENV}={value:?} names {what}, which this platform ({}) does not have: \
                     use `auto`, `io_uring` or `epoll` (or unset it for auto)",
                    std::env::consts::OS
                ),
                None => format!(
                    "{ENV}={value:?} is not a driver: use `auto`, `io_uring` or `epoll` \
                     (or unset it for auto)"
                ),
            };
            Err(io::Error::new(io::ErrorKind::InvalidInput, message))
        }
    }
}

/// What a driver name that other platforms use stands for, so that the error can say
/// it is the platform, not the spelling, that lacks it.
fn other_platform_driver(name: &str) -> Option<&'static str> {
    match name {
        "kqueue" => Some("kqueue, the driver of macOS and the BSDs"),
        "iocp" | "IOCP" => Some("IOCP, the driver of Windows"),
        _ => None,
    }
}

/// Why a ring could not be set up, in words a user can act on.
fn explain(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ENOSYS) => "this kernel has no io_uring (Linux 5.11 or later is needed)",
        Some(libc::EPERM) => {
            "io_uring is not permitted here: a seccomp filter (as in many containers) or the \
             kernel.io_uring_disabled sysctl blocks it"
        }
        Some(libc::ENOMEM) => {
            "the locked-memory limit (RLIMIT_MEMLOCK, `ulimit -l`) is too low for the rings"
        }
        _ => "the kernel refused to set up a ring",
    }
}

/// Build one driver per worker. `single_issuer`: each driver stays on one thread for
/// life (worker threads), so its ring may be set up for a single submitter.
pub(crate) fn build_drivers(
    options: &DriverOptions,
    workers: usize,
    single_issuer: bool,
) -> io::Result<(Arc<Drivers>, Vec<LocalDriver>)> {
    let choice = match options.choice {
        Some(choice) => choice,
        None => env_choice()?.unwrap_or_default(),
    };
    let clock = Clock::new(options.start_paused);
    let io = match choice {
        Driver::Epoll => build_epoll(workers)?,
        Driver::IoUring => build_uring(options, workers, single_issuer).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "the io_uring driver could not be set up: {e} ({}). Choose the epoll \
                     driver instead with `Builder::driver(Driver::Epoll)` or {ENV}=epoll, \
                     or let Zokio fall back on its own with `Driver::Auto`",
                    explain(&e)
                ),
            )
        })?,
        Driver::Auto => match build_uring(options, workers, single_issuer) {
            Ok(drivers) => drivers,
            Err(e) => {
                log::debug!(
                    "zokio: io_uring unavailable ({e}: {}); using the epoll driver",
                    explain(&e)
                );
                build_epoll(workers)?
            }
        },
    };
    let kind = io[0].1.kind;
    let mut locals = Vec::with_capacity(workers);
    let mut shared = Vec::with_capacity(workers);
    let mut times = Vec::with_capacity(workers);
    for (driver, driver_shared) in io {
        let time = TimeDriver::new(clock.clone(), Unparker::new(driver_shared.clone()));
        shared.push(driver_shared.clone());
        times.push(time.clone());
        locals.push(LocalDriver::new(driver, driver_shared, time));
    }
    let drivers = Arc::new(Drivers {
        kind,
        shared: shared.into(),
        time: times.into(),
        next: AtomicUsize::new(0),
    });
    Ok((drivers, locals))
}

#[cfg(target_os = "linux")]
fn build_uring(
    options: &DriverOptions,
    workers: usize,
    single_issuer: bool,
) -> io::Result<Vec<(IoDriver, Arc<DriverShared>)>> {
    let mut drivers = Vec::with_capacity(workers);
    for _ in 0..workers {
        if let Some(errno) = options.simulate_uring_failure {
            return Err(io::Error::from_raw_os_error(errno));
        }
        let (ring, modes) = super::uring::new_ring(single_issuer)?;
        let needs_enable = modes.single_issuer;
        let shared = DriverShared::new(DriverKind::IoUring)?;
        let driver = super::uring::UringDriver::new(ring, needs_enable, &shared);
        drivers.push((IoDriver::Uring(driver), shared));
    }
    Ok(drivers)
}

#[cfg(target_os = "linux")]
fn build_epoll(workers: usize) -> io::Result<Vec<(IoDriver, Arc<DriverShared>)>> {
    let mut drivers = Vec::with_capacity(workers);
    for _ in 0..workers {
        let shared = DriverShared::new(DriverKind::Epoll)?;
        let driver = super::epoll::EpollDriver::new(&shared)?;
        drivers.push((IoDriver::Epoll(driver), shared));
    }
    Ok(drivers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_name_the_cause() {
        assert!(explain(&io::Error::from_raw_os_error(libc::EPERM)).contains("seccomp"));
        assert!(explain(&io::Error::from_raw_os_error(libc::ENOMEM)).contains("MEMLOCK"));
        assert!(explain(&io::Error::from_raw_os_error(libc::ENOSYS)).contains("no io_uring"));
    }
}
