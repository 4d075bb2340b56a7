//! What each unit of a run is expected to take, for `progress`'s time left.
//!
//! Fixed figures, measured with `--quick` on a two-CPU Linux machine with
//! io_uring; a full run's are the quick ones times how many more (and
//! longer) runs its plan has. They only weigh the units against each other:
//! `progress` scales them by how the run is actually going, so they must
//! never feed a measurement or a table.

use std::time::Duration;

use crate::groups::Group;
use crate::net::NetGroup;
use crate::workloads::Workload;

fn secs(quick: f64, full_factor: f64, quick_mode: bool) -> Duration {
    Duration::from_secs_f64(if quick_mode {
        quick
    } else {
        quick * full_factor
    })
}

pub fn workload(w: Workload, quick: bool) -> Duration {
    match w {
        Workload::SpawnManyLocal | Workload::SpawnManyRemote => secs(1.0, 12.0, quick),
        Workload::YieldMany => secs(2.0, 12.0, quick),
        // About half a second a sample, 4 rounds of 3 runtimes (17 in full).
        Workload::Imbalance => secs(8.0, 4.25, quick),
        Workload::IdleTaskBytes => secs(3.0, 2.5, quick),
        // 35 rounds against 430 in a full run.
        Workload::PingPong | Workload::ChainedSpawn => secs(0.3, 12.0, quick),
    }
}

pub fn group(g: Group, quick: bool) -> Duration {
    match g {
        Group::NopRate => secs(0.5, 3.0, quick),
        Group::TimeoutCreate => secs(0.2, 4.0, quick),
        Group::SleepLateness => secs(0.5, 1.5, quick),
        // The same rounds, ten times the wakes in each.
        Group::CrossThreadWake => secs(6.0, 10.0, quick),
        Group::LocalSpawn => secs(0.3, 5.0, quick),
        Group::SyncPingPong => secs(0.2, 4.0, quick),
        Group::Process => secs(4.0, 2.0, quick),
    }
}

/// Per worker count: every case runs once per round at each.
pub fn net(g: NetGroup, worker_counts: usize, quick: bool) -> Duration {
    let per_count = match g {
        // 8 rounds against 3, each run 500 ms against 200.
        NetGroup::Echo => secs(15.0, 6.5, quick),
        NetGroup::Http => secs(12.0, 4.0, quick),
    };
    per_count * worker_counts as u32
}

pub fn fs(quick: bool) -> Duration {
    secs(10.0, 8.0, quick)
}

pub fn memory(quick: bool) -> Duration {
    secs(45.0, 4.0, quick)
}
