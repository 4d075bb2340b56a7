//! Choosing and building a runtime's drivers, from the builder's choice, else
//! `ZOKIO_DRIVER`, else automatically.
//!
//! Auto, on Linux, tries io_uring first and falls back to epoll when a ring cannot be
//! set up (ENOSYS: no io_uring in this kernel; EPERM: a seccomp filter or the
//! `kernel.io_uring_disabled` sysctl; ENOMEM: the locked-memory limit), and to poll(2)
//! when epoll cannot be set up either, logging one debug line with each reason. On
//! macOS and the BSDs it tries kqueue, then poll. A forced driver that cannot be set
//! up is an error that says why and what to choose instead; a driver this platform
//! does not have is an error naming the ones it has. Nothing here may start a thread.

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
    /// Test hook: epoll set-up fails with this OS error too.
    #[cfg(target_os = "linux")]
    pub(crate) simulate_epoll_failure: Option<i32>,
}

/// The environment variable that picks a driver when the builder does not.
pub(crate) const ENV: &str = "ZOKIO_DRIVER";

/// The `ZOKIO_DRIVER` values this platform takes, and the driver each names.
const PLATFORM_DRIVERS: &[(&str, Driver)] = &[
    ("auto", Driver::Auto),
    #[cfg(target_os = "linux")]
    ("io_uring", Driver::IoUring),
    #[cfg(target_os = "linux")]
    ("epoll", Driver::Epoll),
    #[cfg(kqueue)]
    ("kqueue", Driver::Kqueue),
    #[cfg(unix)]
    ("poll", Driver::Poll),
    #[cfg(windows)]
    ("iocp", Driver::Iocp),
];

/// "`auto`, `io_uring`, `epoll` or `poll`": what a user may write here.
fn platform_driver_names() -> String {
    let names: Vec<String> = PLATFORM_DRIVERS
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn env_choice() -> io::Result<Option<Driver>> {
    let Some(value) = std::env::var_os(ENV) else {
        return Ok(None);
    };
    let name = match value.to_str().map(str::trim) {
        Some("") => "auto",
        Some("io-uring") | Some("uring") => "io_uring",
        Some(name) => name,
        None => "",
    };
    if let Some((_, driver)) = PLATFORM_DRIVERS.iter().find(|(n, _)| *n == name) {
        return Ok(Some(*driver));
    }
    let message = match other_platform_driver(name) {
        Some(what) => format!(
            "{ENV}={value:?} names {what}, which this platform ({}) does not have: use {} \
             (or unset it for auto)",
            std::env::consts::OS,
            platform_driver_names()
        ),
        None => format!(
            "{ENV}={value:?} is not a driver: use {} (or unset it for auto)",
            platform_driver_names()
        ),
    };
    Err(io::Error::new(io::ErrorKind::InvalidInput, message))
}

/// What a driver name that other platforms use stands for, so that the error can say
/// it is the platform, not the spelling, that lacks it.
fn other_platform_driver(name: &str) -> Option<&'static str> {
    match name {
        "io_uring" | "epoll" => Some("a driver of Linux"),
        "kqueue" => Some("kqueue, the driver of macOS and the BSDs"),
        "iocp" | "IOCP" => Some("IOCP, the driver of Windows"),
        "poll" => Some("poll(2), the driver of Unix systems"),
        _ => None,
    }
}

/// Why a ring could not be set up, in words a user can act on.
#[cfg(target_os = "linux")]
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
        #[cfg(target_os = "linux")]
        Driver::Epoll => build_readiness(DriverKind::Epoll, workers)?,
        #[cfg(target_os = "linux")]
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
        #[cfg(kqueue)]
        Driver::Kqueue => build_readiness(DriverKind::Kqueue, workers).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "the kqueue driver could not be set up: {e}. Choose the poll driver \
                     instead with `Builder::driver(Driver::Poll)` or {ENV}=poll"
                ),
            )
        })?,
        #[cfg(unix)]
        Driver::Poll => build_readiness(DriverKind::Poll, workers)?,
        #[cfg(windows)]
        Driver::Iocp => build_iocp(workers)?,
        Driver::Auto => build_auto(options, workers, single_issuer)?,
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

/// The platform's best driver that can be set up, falling back one by one.
fn build_auto(
    options: &DriverOptions,
    workers: usize,
    single_issuer: bool,
) -> io::Result<Vec<(IoDriver, Arc<DriverShared>)>> {
    #[cfg(target_os = "linux")]
    match build_uring(options, workers, single_issuer) {
        Ok(drivers) => return Ok(drivers),
        Err(e) => log::debug!(
            "zokio: io_uring unavailable ({e}: {}); trying the epoll driver",
            explain(&e)
        ),
    }
    #[cfg(target_os = "linux")]
    let epoll = match options.simulate_epoll_failure {
        Some(errno) => Err(io::Error::from_raw_os_error(errno)),
        None => build_readiness(DriverKind::Epoll, workers),
    };
    #[cfg(target_os = "linux")]
    match epoll {
        Ok(drivers) => return Ok(drivers),
        Err(e) => log::debug!("zokio: epoll unavailable ({e}); using the poll driver"),
    }
    #[cfg(kqueue)]
    match build_readiness(DriverKind::Kqueue, workers) {
        Ok(drivers) => return Ok(drivers),
        Err(e) => log::debug!("zokio: kqueue unavailable ({e}); using the poll driver"),
    }
    let _ = (options, single_issuer);
    #[cfg(unix)]
    return build_readiness(DriverKind::Poll, workers);
    #[cfg(windows)]
    return build_iocp(workers);
}

/// One completion port per worker.
#[cfg(windows)]
fn build_iocp(workers: usize) -> io::Result<Vec<(IoDriver, Arc<DriverShared>)>> {
    build_each(DriverKind::Iocp, workers, |shared| {
        Ok(IoDriver::Iocp(super::iocp::IocpDriver::new(shared)))
    })
}

/// `workers` drivers of `kind`, each built by `make` around its own shared part.
fn build_each(
    kind: DriverKind,
    workers: usize,
    make: impl Fn(&DriverShared) -> io::Result<IoDriver>,
) -> io::Result<Vec<(IoDriver, Arc<DriverShared>)>> {
    let mut drivers = Vec::with_capacity(workers);
    for _ in 0..workers {
        let shared = DriverShared::new(kind)?;
        drivers.push((make(&shared)?, shared));
    }
    Ok(drivers)
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

/// One readiness driver (epoll, kqueue or poll) per worker.
#[cfg(unix)]
fn build_readiness(
    kind: DriverKind,
    workers: usize,
) -> io::Result<Vec<(IoDriver, Arc<DriverShared>)>> {
    build_each(kind, workers, |shared| {
        Ok(IoDriver::Readiness(super::readiness::ReadinessDriver::new(
            shared,
        )?))
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_names_offered_are_the_platforms_drivers() {
        assert_eq!(
            platform_driver_names(),
            "`auto`, `io_uring`, `epoll` or `poll`"
        );
    }

    #[test]
    fn explanations_name_the_cause() {
        assert!(explain(&io::Error::from_raw_os_error(libc::EPERM)).contains("seccomp"));
        assert!(explain(&io::Error::from_raw_os_error(libc::ENOMEM)).contains("MEMLOCK"));
        assert!(explain(&io::Error::from_raw_os_error(libc::ENOSYS)).contains("no io_uring"));
    }
}
