//! Splitting the CPUs between a network server and its load generator, so that
//! they stop trading places on the same CPU from run to run (the main source of
//! noise on a small machine). The calling thread is pinned to the server's CPUs
//! while the server starts, so every thread the server creates inherits them, and
//! then to the load's CPU while the load runs (a `wrk` child inherits it too). The
//! old mask comes back on drop. A [`Placement`] says how: spread (the server on
//! the first `workers` CPUs, the load on the next; nothing pinned where there are
//! not `workers + 1` CPUs) or on one CPU (every server thread on the first CPU,
//! the load on the second; nothing pinned on a machine of one CPU). Must never pin
//! a thread it did not start from.

use std::mem;

/// The CPUs this thread may run on.
fn allowed() -> Option<(libc::cpu_set_t, Vec<usize>)> {
    // SAFETY: `cpu_set_t` is plain bits; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: `set` is a valid, writable `cpu_set_t` of the size given.
    let rc = unsafe { libc::sched_getaffinity(0, mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return None;
    }
    let cpus = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below `CPU_SETSIZE`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    Some((set, cpus))
}

fn set(mask: &libc::cpu_set_t) {
    // SAFETY: `mask` is a valid `cpu_set_t`; a failure leaves the mask as it was,
    // which only makes the run noisier.
    unsafe { libc::sched_setaffinity(0, mem::size_of::<libc::cpu_set_t>(), mask) };
}

fn mask_of(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: as in `allowed`.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: `cpu` came from `allowed`, so it is below `CPU_SETSIZE`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    set
}

/// How many workers a network server runs with, and where: `3` spreads them
/// over CPUs of their own, `3p` packs them all onto one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub workers: usize,
    /// Every server thread on one CPU, whatever the worker count.
    pub one_cpu: bool,
}

impl Placement {
    pub const fn spread(workers: usize) -> Placement {
        Placement {
            workers,
            one_cpu: false,
        }
    }

    pub const fn one_cpu(workers: usize) -> Placement {
        Placement {
            workers,
            one_cpu: true,
        }
    }

    /// `2` or `2p` (all on one CPU).
    pub fn parse(s: &str) -> Result<Placement, String> {
        let (digits, one_cpu) = match s.strip_suffix('p') {
            Some(d) => (d, true),
            None => (s, false),
        };
        match digits.parse::<usize>() {
            Ok(workers) if workers > 0 => Ok(Placement { workers, one_cpu }),
            _ => Err(format!(
                "worker counts are positive numbers, optionally followed by `p` \
                 (all on one CPU), got `{s}`"
            )),
        }
    }

    /// The flag's spelling back: `2`, `2p`.
    pub fn flag(self) -> String {
        format!("{}{}", self.workers, if self.one_cpu { "p" } else { "" })
    }

    /// For the table's workers column: `2`, `2 (1 CPU)`.
    pub fn label(self) -> String {
        if self.one_cpu {
            format!("{} (1 CPU)", self.workers)
        } else {
            self.workers.to_string()
        }
    }
}

/// A server / load split of the CPUs for one run.
pub struct Split {
    saved: Option<libc::cpu_set_t>,
    server: Vec<usize>,
    load: Option<usize>,
}

impl Split {
    /// Pin the calling thread to the server's CPUs (the server's threads,
    /// created next, inherit them): the first `workers` allowed CPUs, or only
    /// the first with [`Placement::one_cpu`], if one more CPU is left for the load.
    pub fn server_side(placement: Placement) -> Split {
        let cpus_needed = if placement.one_cpu {
            1
        } else {
            placement.workers
        };
        match allowed() {
            Some((saved, cpus)) if cpus_needed > 0 && cpus.len() > cpus_needed => {
                let server = cpus[..cpus_needed].to_vec();
                set(&mask_of(&server));
                Split {
                    saved: Some(saved),
                    server,
                    load: Some(cpus[cpus_needed]),
                }
            }
            _ => Split {
                saved: None,
                server: Vec::new(),
                load: None,
            },
        }
    }

    /// Move the calling thread to the load's CPU (after the server started).
    pub fn load_side(&self) {
        if let Some(cpu) = self.load {
            set(&mask_of(&[cpu]));
        }
    }

    /// How the run was placed, for the notes.
    pub fn describe(&self) -> String {
        match self.load {
            Some(cpu) => format!("server on CPU {:?}, load on CPU {cpu}", self.server),
            None => "not pinned (no CPU left over for the load)".to_string(),
        }
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            set(saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_restores_the_mask() {
        let before = allowed().unwrap().1;
        {
            let split = Split::server_side(Placement::spread(1));
            if before.len() > 1 {
                assert_eq!(allowed().unwrap().1, vec![before[0]]);
                split.load_side();
                assert_eq!(allowed().unwrap().1, vec![before[1]]);
            } else {
                assert!(split.describe().starts_with("not pinned"));
            }
        }
        assert_eq!(allowed().unwrap().1, before);
        {
            let split = Split::server_side(Placement::one_cpu(2));
            if before.len() > 1 {
                assert_eq!(allowed().unwrap().1, vec![before[0]]);
                assert_eq!(
                    split.describe(),
                    format!("server on CPU [{}], load on CPU {}", before[0], before[1])
                );
            }
        }
        assert_eq!(allowed().unwrap().1, before);
    }

    #[test]
    fn placements_parse_and_print() {
        assert_eq!(Placement::parse("2").unwrap(), Placement::spread(2));
        assert_eq!(Placement::parse("2p").unwrap(), Placement::one_cpu(2));
        for bad in ["0", "0p", "p", "2q", "-1", "", "two"] {
            assert!(Placement::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Placement::one_cpu(2).label(), "2 (1 CPU)");
        assert_eq!(Placement::spread(2).label(), "2");
        assert_eq!(Placement::one_cpu(3).flag(), "3p");
        assert_eq!(Placement::spread(1).flag(), "1");
    }
}
