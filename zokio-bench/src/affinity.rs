//! Splitting the CPUs between a network server and its load generator, so that
//! they stop trading places on the same CPU from run to run (the main source of
//! noise on a small machine). The calling thread is pinned to the server's CPUs
//! while the server starts, so every thread the server creates inherits them, and
//! then to the load's CPU while the load runs (a `wrk` child inherits it too). The
//! old mask comes back on drop. Where there are not `workers + 1` CPUs nothing is
//! pinned. Must never pin a thread it did not start from.

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

/// A server / load split of the CPUs for one run.
pub struct Split {
    saved: Option<libc::cpu_set_t>,
    server: Vec<usize>,
    load: Option<usize>,
}

impl Split {
    /// Pin the calling thread to the first `workers` allowed CPUs (the server's
    /// threads, created next, inherit them), if one more CPU is left for the load.
    pub fn server_side(workers: usize) -> Split {
        match allowed() {
            Some((saved, cpus)) if workers > 0 && cpus.len() > workers => {
                let server = cpus[..workers].to_vec();
                set(&mask_of(&server));
                Split {
                    saved: Some(saved),
                    server,
                    load: Some(cpus[workers]),
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
            let split = Split::server_side(1);
            if before.len() > 1 {
                assert_eq!(allowed().unwrap().1, vec![before[0]]);
                split.load_side();
                assert_eq!(allowed().unwrap().1, vec![before[1]]);
            } else {
                assert!(split.describe().starts_with("not pinned"));
            }
        }
        assert_eq!(allowed().unwrap().1, before);
    }
}
