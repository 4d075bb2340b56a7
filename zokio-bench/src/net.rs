//! The network groups: `echo` (TCP ping-pong against tokio and monoio) and
//! `http` (hyper's hello world against hyper on tokio), each server started
//! in a runtime of its own for every run and shut down after it. Echo also
//! runs Zokio's server forced onto its poll(2) driver (`zokio-poll`, the
//! fallback): an informational row, in no ratio and under no target.
//!
//! Every contender (one case, one worker count, one server runtime) runs
//! once per round, the runtimes of a case back to back in an order that
//! rotates from round to round; warm-up rounds are discarded and medians
//! reported, and the zokio/peer ratios are the medians of each round's
//! ratio, so a stretch of the machine doing something else moves both sides
//! of a ratio alike. Each run returns three figures: exchanges per second,
//! p50 and p99 latency. Servers are in `net_echo`/`net_http`, the client in
//! `net_client`; this file only picks cases, runs them, and reports.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::affinity::{Placement, Split};
use crate::net_client::{self, Load, Reply};
use crate::report::{fmt_value, samples_json};
use crate::stats::{ratio, Summary};
use crate::workloads::Unit;
use crate::{net_echo, net_http, panic_message, Plan, Watchdog};

/// Worker counts (and CPU placements) the network servers run with unless
/// told otherwise: 1 worker with the load on another CPU, 2 workers spread
/// over the CPUs, and 2 workers packed onto one CPU with the load on another.
pub const DEFAULT_WORKERS: [Placement; 3] = [
    Placement::spread(1),
    Placement::spread(2),
    Placement::one_cpu(2),
];

/// `--quick`'s: 2 workers spread over the CPUs, as many as the scheduler
/// workloads' runtimes have; each further count would add as much time again.
pub const QUICK_WORKERS: [Placement; 1] = [Placement::spread(2)];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetGroup {
    Echo,
    Http,
}

impl NetGroup {
    pub const ALL: [NetGroup; 2] = [NetGroup::Echo, NetGroup::Http];

    pub fn name(self) -> &'static str {
        match self {
            NetGroup::Echo => "echo",
            NetGroup::Http => "http",
        }
    }

    /// The groups a name stands for: one, or `net` for both; empty for an
    /// unknown name.
    pub fn expand(name: &str) -> Vec<NetGroup> {
        if name == "net" {
            return NetGroup::ALL.to_vec();
        }
        NetGroup::ALL
            .into_iter()
            .filter(|g| g.name() == name)
            .collect()
    }

    /// Every run warms up inside itself first (the client's warm-up, or a
    /// discarded `wrk` run), since its server is new; echo also discards a
    /// whole first round in a full run.
    pub fn plan(self, quick: bool) -> Plan {
        let (warmup, runs) = match (self, quick) {
            // Short runs, many rounds: the median then shrugs off a stretch
            // of the machine doing something else.
            (NetGroup::Echo, false) => (1, 7),
            (NetGroup::Echo, true) => (0, 3),
            (NetGroup::Http, false) => (0, 7),
            (NetGroup::Http, true) => (0, 3),
        };
        Plan { warmup, runs }
    }

    /// The server runtimes compared, Zokio first (echo: then Zokio on its
    /// poll driver); `floor` (the runtime-less one-thread io_uring server of
    /// `net_floor`) last, as the kernel's cost.
    pub fn runtimes(self) -> &'static [&'static str] {
        match self {
            NetGroup::Echo => &["zokio", POLL, "tokio", "monoio", "floor"],
            NetGroup::Http => &["zokio", "tokio", "floor"],
        }
    }

    /// The runtimes Zokio's throughput is set against (the zokio/peer
    /// ratios): every one but Zokio itself and its informational rows.
    pub fn peers(self) -> Vec<&'static str> {
        self.runtimes()[1..]
            .iter()
            .copied()
            .filter(|rt| !informational(rt))
            .collect()
    }
}

/// Zokio's echo server forced onto the poll(2) driver (`Driver::Poll`), the
/// fallback where neither io_uring nor epoll can be set up.
pub const POLL: &str = "zokio-poll";

/// A runtime shown for information only: no target is set for it and no
/// ratio is taken against it, so a reader never mistakes the fallback's
/// figures for the headline.
pub fn informational(runtime: &str) -> bool {
    runtime == POLL
}

/// How a runtime is named in the tables and notes.
pub fn label(runtime: &str) -> &str {
    match runtime {
        POLL => "zokio (poll)",
        other => other,
    }
}

/// Whether a runtime is Zokio's, so keeps I/O counters of its own.
fn counts_io(runtime: &str) -> bool {
    runtime == "zokio" || runtime == POLL
}

/// Parses `1,2,2p`: positive worker counts, each optionally followed by `p`
/// (every server thread on one CPU), duplicates dropped.
pub fn parse_workers(s: &str) -> Result<Vec<Placement>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let placement = Placement::parse(part)?;
        if !out.contains(&placement) {
            out.push(placement);
        }
    }
    if out.is_empty() {
        return Err(format!("no worker count in `{s}`"));
    }
    Ok(out)
}

/// One server runtime's figures in one row, indexed by the `RATE`...
/// constants below, one sample each per measured run.
pub struct Contender {
    pub runtime: &'static str,
    pub figures: Vec<Vec<f64>>,
    pub error: Option<String>,
}

impl Contender {
    fn median(&self, figure: usize) -> Option<f64> {
        Summary::of(self.figures.get(figure)?).map(|s| s.median)
    }
}

/// Exchanges (round trips, requests) per second.
pub const RATE: usize = 0;
/// Latency percentiles, in nanoseconds.
pub const P50: usize = 1;
pub const P99: usize = 2;
/// The server's CPU time (every thread of the bench process but the
/// client's) per exchange, in nanoseconds.
pub const SERVER_CPU: usize = 3;
/// Share of the measured window the echo client's thread was on a CPU.
pub const CLIENT_BUSY: usize = 4;
/// The server's context switches (voluntary and involuntary, over every thread
/// of the bench process but the load's) per exchange.
pub const SERVER_SWITCHES: usize = 5;
/// Zokio's driver system calls (`io_uring_enter`; `epoll_wait` and
/// `epoll_ctl` on epoll) per exchange, from its own counters; NaN for the
/// others, which keep none.
pub const SERVER_ENTERS: usize = 6;
/// Zokio's system calls to wake a sleeping worker's driver (eventfd writes,
/// futex wakes) per exchange, from its own counters; NaN for the others.
pub const SERVER_WAKES: usize = 7;

/// One case at one worker count, every runtime's figures.
pub struct NetRow {
    pub case: String,
    pub workers: Placement,
    pub contenders: Vec<Contender>,
}

impl NetRow {
    fn median(&self, runtime: &str, figure: usize) -> Option<f64> {
        self.contenders
            .iter()
            .find(|c| c.runtime == runtime)?
            .median(figure)
    }

    /// Zokio's throughput over `peer`'s, the median of the rounds' ratios
    /// (each round's runs sit side by side in time): above 1 means Zokio
    /// served more.
    pub fn ratio(&self, peer: &str) -> Option<f64> {
        let rates = |rt: &str| {
            self.contenders
                .iter()
                .find(|c| c.runtime == rt && c.error.is_none())?
                .figures
                .first()
        };
        let (z, p) = (rates("zokio")?, rates(peer)?);
        if z.len() != p.len() {
            return None;
        }
        let per_round: Vec<f64> = z.iter().zip(p).filter_map(|(&z, &p)| ratio(z, p)).collect();
        Summary::of(&per_round).map(|s| s.median)
    }
}

pub struct NetResult {
    pub group: NetGroup,
    pub warmup: usize,
    pub runs: usize,
    /// What the load was, in words: the table's heading.
    pub load: String,
    pub rows: Vec<NetRow>,
    pub notes: Vec<String>,
}

/// How long each echo run warms up, then measures.
pub struct Timing {
    pub warmup: Duration,
    pub measure: Duration,
}

pub fn echo_timing(quick: bool) -> Timing {
    if quick {
        Timing {
            warmup: Duration::from_millis(50),
            measure: Duration::from_millis(150),
        }
    } else {
        Timing {
            warmup: Duration::from_millis(100),
            measure: Duration::from_millis(400),
        }
    }
}

/// (message bytes, connections)
pub const ECHO_CASES: [(usize, usize); 5] =
    [(1024, 1), (1024, 8), (1024, 64), (1024, 256), (100, 256)];

pub const HTTP_CONNS: usize = 64;
/// One load thread, as for echo: at 2 workers unpinned the server's threads and
/// the load then share the 2 CPUs one busy thread each (with 2, the load's two
/// threads would outweigh one busy server thread in the kernel's fair share).
pub const WRK_THREADS: usize = 1;

pub fn size_label(bytes: usize) -> String {
    if bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

pub fn run(group: NetGroup, workers: &[Placement], quick: bool, dog: &Watchdog) -> NetResult {
    match group {
        NetGroup::Echo => echo(workers, quick, dog),
        NetGroup::Http => http(workers, quick, dog),
    }
}

/// Runs every case of `cases` (label, workers) on each of
/// `group.runtimes()`, round after round: within a round the cases go in
/// order and each case's runtimes one after the other, starting one runtime
/// later every round, so every runtime goes first, middle and last in turn
/// and the runs compared sit next to each other in time. Warm-up rounds are
/// dropped; a runtime that panics keeps no samples for that case.
/// `one(runtime, case index, placement)` is one run.
fn collect(
    group: NetGroup,
    cases: &[(String, Placement)],
    plan: Plan,
    dog: &Watchdog,
    one: impl FnMut(&'static str, usize, Placement) -> Vec<f64>,
) -> Vec<NetRow> {
    collect_over(group.name(), group.runtimes(), cases, plan, dog, one)
}

/// [`collect`] over any list of runtimes, labelled `name` for the watchdog
/// (the memory group runs its echo case through here).
pub fn collect_over(
    name: &str,
    runtimes: &[&'static str],
    cases: &[(String, Placement)],
    plan: Plan,
    dog: &Watchdog,
    mut one: impl FnMut(&'static str, usize, Placement) -> Vec<f64>,
) -> Vec<NetRow> {
    let mut rows: Vec<NetRow> = cases
        .iter()
        .map(|(label, w)| NetRow {
            case: label.clone(),
            workers: *w,
            contenders: runtimes
                .iter()
                .map(|&runtime| Contender {
                    runtime,
                    figures: Vec::new(),
                    error: None,
                })
                .collect(),
        })
        .collect();
    let n = runtimes.len();
    for round in 0..plan.warmup + plan.runs {
        for (k, row) in rows.iter_mut().enumerate() {
            let (case, w) = (&row.case, row.workers);
            for j in 0..n {
                let c = &mut row.contenders[(round + j) % n];
                if c.error.is_some() {
                    continue;
                }
                let rt = c.runtime;
                thread::sleep(crate::SETTLE);
                let got = dog.guard(
                    || format!("{name} {case} at {} worker(s) on {rt}", w.label()),
                    || panic::catch_unwind(AssertUnwindSafe(|| one(rt, k, w))),
                );
                match got {
                    Ok(values) if round >= plan.warmup => {
                        if c.figures.len() < values.len() {
                            c.figures.resize(values.len(), Vec::new());
                        }
                        for (fig, v) in c.figures.iter_mut().zip(values) {
                            fig.push(v);
                        }
                    }
                    Ok(_) => {}
                    Err(p) => {
                        c.figures.clear();
                        c.error = Some(panic_message(&*p));
                    }
                }
            }
        }
    }
    rows
}

/// Remembers where each worker count's servers and load ran, for the notes.
#[derive(Default)]
pub struct Placements(RefCell<Vec<(Placement, String)>>);

impl Placements {
    pub fn saw(&self, workers: Placement, how: String) {
        let mut seen = self.0.borrow_mut();
        if !seen.iter().any(|(w, _)| *w == workers) {
            seen.push((workers, how));
        }
    }

    pub fn note(&self) -> String {
        let seen = self.0.borrow();
        let parts: Vec<String> = seen
            .iter()
            .map(|(w, how)| format!("{} worker(s): {how}", w.label()))
            .collect();
        format!("CPU placement: {}", parts.join("; "))
    }
}

/// Remembers which driver each runtime's servers ran on, for the notes.
#[derive(Default)]
pub struct Drivers(RefCell<Vec<(&'static str, String)>>);

impl Drivers {
    pub fn saw(&self, runtime: &'static str, driver: &str) {
        let mut seen = self.0.borrow_mut();
        if !seen.iter().any(|(r, d)| *r == runtime && d == driver) {
            seen.push((runtime, driver.to_string()));
        }
    }

    pub fn note(&self) -> String {
        let seen = self.0.borrow();
        let parts: Vec<String> = seen
            .iter()
            .map(|(r, d)| format!("{} on {d}", label(r)))
            .collect();
        format!(
            "drivers the servers ran on: {}",
            if parts.is_empty() {
                "none started".to_string()
            } else {
                parts.join(", ")
            }
        )
    }
}

/// What one echo run measured, and where it ran.
pub struct EchoRun {
    /// Indexed by the `RATE`... constants.
    pub figures: Vec<f64>,
    /// The driver the server's runtime ended up with.
    pub driver: String,
    /// How the server and the load were placed on the CPUs, in words.
    pub placement: String,
}

/// One echo run against `rt`'s server (a name `net_echo::start` knows):
/// a new server on `w`, `conns` connections of `bytes`-byte messages for the
/// echo timing of `quick`, then the server stopped. Panics on any failure,
/// for the caller's rounds to record.
pub fn echo_once(rt: &str, bytes: usize, conns: usize, w: Placement, quick: bool) -> EchoRun {
    let timing = echo_timing(quick);
    let split = Split::server_side(w);
    let server = net_echo::start(rt, w.workers)
        .unwrap_or_else(|e| panic!("starting the {rt} echo server: {e}"));
    split.load_side();
    let driver = server.driver.clone();
    let placement = split.describe();
    let message: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    let out = net_client::run(&Load {
        addr: server.addr(),
        conns,
        request: &message,
        reply: Reply::Echo,
        warmup: timing.warmup,
        measure: timing.measure,
        server_io: server.counters.as_deref(),
    })
    .unwrap_or_else(|e| panic!("echo client against {rt}: {e}"));
    server
        .stop()
        .unwrap_or_else(|e| panic!("stopping the {rt} echo server: {e}"));
    EchoRun {
        figures: vec![
            out.rate(),
            out.latency(50.0),
            out.latency(99.0),
            out.others_cpu_per_exchange(),
            out.client_busy(),
            out.others_switches_per_exchange(),
            out.server_io_per_exchange()[0],
            out.server_io_per_exchange()[2],
        ],
        driver,
        placement,
    }
}

fn echo(workers: &[Placement], quick: bool, dog: &Watchdog) -> NetResult {
    let group = NetGroup::Echo;
    let plan = group.plan(quick);
    let timing = echo_timing(quick);
    let mut cases = Vec::new();
    let mut shapes = Vec::new();
    for &(bytes, conns) in &ECHO_CASES {
        for &w in workers {
            cases.push((format!("{} x {conns} conn", size_label(bytes)), w));
            shapes.push((bytes, conns));
        }
    }
    let drivers = Drivers::default();
    let placement = Placements::default();
    let rows = collect(group, &cases, plan, dog, |rt, k, w| {
        let (bytes, conns) = shapes[k];
        let run = echo_once(rt, bytes, conns, w, quick);
        drivers.saw(rt, &run.driver);
        placement.saw(w, run.placement);
        run.figures
    });
    let notes = vec![
        format!(
            "each run: a new server, the client connects every connection, then each \
             connection loops send message / read the whole echo / record the latency for \
             {:?} of warm-up (not counted) and {:?} measured; the server is then shut down \
             (runtime dropped, threads joined)",
            timing.warmup, timing.measure
        ),
        "tokio: multi_thread(N) runtime with enable_all, one accept loop, tokio::spawn per \
         connection, AsyncReadExt::read + write_all through a 4 KiB buffer; monoio: N threads, \
         each its own runtime (FusionDriver: io_uring, else its legacy epoll driver) with its own \
         SO_REUSEPORT listener on the shared port, owned-buffer read + write_all; zokio: \
         multi_thread(N) runtime, one accept loop, zokio::spawn per connection, read_owned + \
         write_all_owned reusing one 4 KiB Vec; zokio (poll): that same server and client, \
         the runtime forced onto Zokio's poll(2) driver (Driver::Poll, the fallback), for \
         information only: no target, no zokio/peer ratio; floor: no runtime, one thread \
         (whatever the worker count), a raw io_uring loop (accept, recv, send, batched \
         submit-and-wait) echoing from a 4 KiB buffer per connection, what the kernel alone \
         costs; every server sets TCP_NODELAY, as the client does"
            .into(),
        drivers.note(),
        placement.note(),
        "server CPU/rt: CPU time of every thread of the bench process but the client's (that is, \
         the server's, user and kernel) over the measured window, per round trip counted; \
         client CPU: the share of the window the client thread was on a CPU (near 100% means \
         the client, not the server, set the pace); server cs/rt: voluntary plus involuntary \
         context switches of those same threads (from /proc/self/task/*/status, read before \
         and after the window) per round trip counted; zokio driver calls / wake writes: \
         Zokio's own count of its drivers' system calls (io_uring_enter; epoll_wait and \
         epoll_ctl on epoll; futex waits of a driver with nothing in flight), and of its \
         eventfd writes and futex wakes to wake a sleeping worker, over the window, per \
         round trip (zokio's row; zokio (poll)'s are in the JSON)"
            .into(),
        format!(
            "workers = the server's worker threads (monoio: threads; floor: always 1), `(1 CPU)`: \
             all of them pinned to one CPU, the load on another; the client thread is one \
             more, on a machine of {} CPU(s); with 1 connection every round trip wakes a sleeping \
             server thread and then the client, so that row measures wake-ups as much as the \
             runtime (on a VM it moves with where the kernel puts the threads)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
    ];
    NetResult {
        group,
        warmup: plan.warmup,
        runs: plan.runs,
        load: "client: one thread, raw level-triggered epoll (libc), every connection".into(),
        rows,
        notes,
    }
}

fn http(workers: &[Placement], quick: bool, dog: &Watchdog) -> NetResult {
    let group = NetGroup::Http;
    let plan = group.plan(quick);
    let have_wrk = net_http::wrk_available();
    // wrk counts whole seconds.
    let (warm_secs, secs) = if quick { (0, 1) } else { (1, 2) };
    let cases: Vec<(String, Placement)> = workers
        .iter()
        .map(|&w| (format!("GET / x {HTTP_CONNS} conn"), w))
        .collect();
    let drivers = Drivers::default();
    let placement = Placements::default();
    let rows = collect(group, &cases, plan, dog, |rt, _, w| {
        let split = Split::server_side(w);
        let server = net_http::start(rt, w.workers)
            .unwrap_or_else(|e| panic!("starting the {rt} HTTP server: {e}"));
        split.load_side();
        drivers.saw(rt, &server.driver);
        placement.saw(w, split.describe());
        let addr = server.addr();
        let report = if have_wrk {
            if warm_secs > 0 {
                net_http::wrk(addr, WRK_THREADS, HTTP_CONNS, warm_secs)
                    .unwrap_or_else(|e| panic!("wrk warm-up against {rt}: {e}"));
            }
            // wrk is another process: all of this one's CPU time is the
            // server's (the bench thread only waits).
            let cpu = net_client::process_cpu();
            let me = net_client::current_tid();
            let switches = net_client::context_switches_except(me);
            let io = server.counters.as_ref().map(|read| read());
            net_http::wrk(addr, WRK_THREADS, HTTP_CONNS, secs).map(|mut r| {
                let used = net_client::process_cpu().saturating_sub(cpu);
                let switched = net_client::context_switches_except(me).saturating_sub(switches);
                let requests = r.requests.max(1) as f64;
                r.server_cpu_ns = used.as_nanos() as f64 / requests;
                r.server_switches = switched as f64 / requests;
                if let (Some(read), Some(before)) = (&server.counters, io) {
                    let spent = read() - before;
                    r.server_enters = spent.kernel_calls as f64 / requests;
                    r.server_wakes = spent.wake_writes as f64 / requests;
                }
                r
            })
        } else {
            net_http::own_client(
                addr,
                HTTP_CONNS,
                Duration::from_secs(warm_secs.max(1)) / 2,
                Duration::from_secs(secs),
                server.counters.as_deref(),
            )
        }
        .unwrap_or_else(|e| panic!("HTTP load against {rt}: {e}"));
        server
            .stop()
            .unwrap_or_else(|e| panic!("stopping the {rt} HTTP server: {e}"));
        vec![
            report.requests_per_sec,
            report.p50_ns,
            report.p99_ns,
            report.server_cpu_ns,
            // No client thread of ours to measure: wrk is another process.
            f64::NAN,
            report.server_switches,
            report.server_enters,
            report.server_wakes,
        ]
    });
    let load = if have_wrk {
        format!("load: wrk -t{WRK_THREADS} -c{HTTP_CONNS} -d{secs}s --latency")
    } else {
        format!(
            "load: wrk not found; the bench's own client (one thread, raw epoll, \
             {HTTP_CONNS} keep-alive connections, {secs} s)"
        )
    };
    let mut notes = vec![
        "both servers: hyper 1.x, service_fn answering every request with 200 OK and the body \
         `Hello, World!`, one accept loop, a task per connection, TCP_NODELAY, http1 with \
         keep-alive and hyper's timer; zokio: `serve` of zokio/examples/http.rs itself \
         (ZokioIo, ZokioTimer; it first reads a new connection's opening bytes to tell HTTP/2 \
         prior knowledge from HTTP/1.1, then hands them back to hyper), tokio: the same on \
         hyper-util's TokioIo and TokioTimer, HTTP/1.1 only; floor: no runtime and no hyper, \
         one thread (whatever the worker count), a raw io_uring loop (accept, recv, send, \
         batched submit-and-wait) answering every complete request with the same 200 response \
         (a fixed date header of the same length), what the kernel alone costs"
            .into(),
        drivers.note(),
        placement.note(),
        "server cs/req: voluntary plus involuntary context switches of every thread of the \
         bench process but the one driving the load (from /proc/self/task/*/status, read \
         before and after the measured run), per request counted; zokio driver calls / wake \
         writes: Zokio's own count of its drivers' system calls (io_uring_enter; epoll_wait \
         and epoll_ctl on epoll; futex waits of a driver with nothing in flight), and of its \
         eventfd writes and futex wakes to wake a sleeping worker, over the measured run, \
         per request"
            .into(),
        if have_wrk {
            "server CPU/req: the bench process's CPU time (user and kernel) over the measured wrk \
             run, all of it the server's, per request wrk counted"
                .into()
        } else {
            "server CPU/req: CPU time of every thread of the bench process but the client's over \
             the measured window, per request counted"
                .into()
        },
    ];
    if have_wrk && warm_secs > 0 {
        notes.push(format!(
            "each run: a new server, a {warm_secs} s wrk run to warm it (discarded), the measured \
             run, then the server is shut down"
        ));
    }
    NetResult {
        group,
        warmup: plan.warmup,
        runs: plan.runs,
        load,
        rows,
        notes,
    }
}

// ---------------------------------------------------------------- report

fn fmt_rate(v: Option<f64>, what: &str) -> String {
    match v {
        None => "n/a".into(),
        Some(v) if v >= 1e6 => format!("{:.2} M {what}", v / 1e6),
        Some(v) => format!("{:.1} k {what}", v / 1e3),
    }
}

pub fn table(results: &[NetResult]) -> String {
    let mut out = String::new();
    for (n, g) in results.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let runtimes = g.group.runtimes();
        let peers = g.group.peers();
        let what = match g.group {
            NetGroup::Echo => "rt/s",
            NetGroup::Http => "req/s",
        };
        let _ = writeln!(out, "{} ({})\n", g.group.name(), g.load);
        let mut head = "| case | workers |".to_string();
        for rt in runtimes {
            let _ = write!(head, " {} {what} |", label(rt));
        }
        for p in &peers {
            let _ = write!(head, " zokio/{p} |");
        }
        let names = runtimes
            .iter()
            .map(|rt| label(rt))
            .collect::<Vec<_>>()
            .join(" / ");
        let per = match g.group {
            NetGroup::Echo => "rt",
            NetGroup::Http => "req",
        };
        let mut extra: Vec<(String, usize)> = vec![
            (format!("p50 {names}"), P50),
            (format!("p99 {names}"), P99),
            (format!("server CPU/{per} {names}"), SERVER_CPU),
            (format!("server cs/{per} {names}"), SERVER_SWITCHES),
        ];
        // Only Zokio counts its driver's system calls.
        let enters_title = format!("zokio driver calls / wake writes per {per}");
        if g.group == NetGroup::Echo {
            extra.push((format!("client CPU {names}"), CLIENT_BUSY));
        }
        for (title, _) in &extra {
            let _ = write!(head, " {title} |");
        }
        let _ = write!(head, " {enters_title} |");
        let _ = writeln!(out, "{head}");
        let cols = 3 + runtimes.len() + peers.len() + extra.len();
        let _ = writeln!(out, "|---|---:|{}", "---:|".repeat(cols - 2));
        for r in &g.rows {
            let mut line = format!("| {} | {} |", r.case, r.workers.label());
            for rt in runtimes {
                let _ = write!(line, " {} |", fmt_rate(r.median(rt, RATE), what));
            }
            for p in &peers {
                let cell = r.ratio(p).map_or("n/a".into(), |x| format!("{x:.2}"));
                let _ = write!(line, " {cell} |");
            }
            for &(_, figure) in &extra {
                let cells: Vec<String> = runtimes
                    .iter()
                    .map(|rt| match (figure, r.median(rt, figure)) {
                        (CLIENT_BUSY, Some(v)) => format!("{:.0}%", v * 100.0),
                        (SERVER_SWITCHES, Some(v)) => format!("{v:.3}"),
                        (SERVER_SWITCHES, None) => "n/a".into(),
                        (_, v) => fmt_value(v, Unit::Nanos),
                    })
                    .collect();
                let _ = write!(line, " {} |", cells.join(" / "));
            }
            let zokio_figure = |figure| {
                r.median("zokio", figure)
                    .filter(|v| v.is_finite())
                    .map_or("n/a".into(), |v| format!("{v:.3}"))
            };
            let cell = format!(
                "{} / {}",
                zokio_figure(SERVER_ENTERS),
                zokio_figure(SERVER_WAKES)
            );
            let _ = write!(line, " {cell} |");
            let _ = writeln!(out, "{line}");
        }
        out.push_str("\nnotes:\n");
        for note in &g.notes {
            let _ = writeln!(out, "- {}: {note}", g.group.name());
        }
        let _ = writeln!(
            out,
            "- {}: medians of {} measured run(s) after {} warm-up round(s) per contender, \
             a case's runtimes back to back, the first of them rotating from round to round; \
             zokio/peer is the median of the rounds' ratios, above 1 means Zokio served more{}",
            g.group.name(),
            g.runs,
            g.warmup,
            if g.group.runtimes().iter().any(|rt| informational(rt)) {
                "; the zokio (poll) column is informational: in no ratio, under no target"
            } else {
                ""
            }
        );
        let mut errors: Vec<String> = Vec::new();
        for r in &g.rows {
            for c in &r.contenders {
                if let Some(e) = &c.error {
                    errors.push(format!(
                        "{} {} at {} worker(s) on {}: {e}",
                        g.group.name(),
                        r.case,
                        r.workers.label(),
                        label(c.runtime)
                    ));
                }
            }
        }
        if !errors.is_empty() {
            out.push_str("\nfailed:\n");
            for e in errors {
                let _ = writeln!(out, "- {e}");
            }
        }
    }
    out
}

pub fn json(results: &[NetResult]) -> Value {
    let groups: Vec<Value> = results
        .iter()
        .map(|g| {
            let rows: Vec<Value> = g
                .rows
                .iter()
                .map(|r| {
                    let mut runtimes = Map::new();
                    for c in &r.contenders {
                        let figure = |i: usize| {
                            let samples = c.figures.get(i).map_or(&[][..], |v| &v[..]);
                            Value::Object(samples_json(samples, c.error.as_deref()))
                        };
                        let mut entry = json!({
                            "per_second": figure(RATE),
                            "p50_ns": figure(P50),
                            "p99_ns": figure(P99),
                            "server_cpu_ns_per_exchange": figure(SERVER_CPU),
                            "server_context_switches_per_exchange": figure(SERVER_SWITCHES),
                        });
                        if informational(c.runtime) {
                            entry["informational"] = json!(true);
                        }
                        if counts_io(c.runtime) {
                            entry["driver_calls_per_exchange"] = figure(SERVER_ENTERS);
                            entry["wake_writes_per_exchange"] = figure(SERVER_WAKES);
                        }
                        if g.group == NetGroup::Echo {
                            entry["client_cpu_share"] = figure(CLIENT_BUSY);
                        }
                        runtimes.insert(c.runtime.into(), entry);
                    }
                    let mut ratios = Map::new();
                    for p in &g.group.peers() {
                        ratios.insert(format!("zokio_over_{p}"), json!(r.ratio(p)));
                    }
                    json!({
                        "case": r.case,
                        "workers": r.workers.workers,
                        "one_cpu": r.workers.one_cpu,
                        "runtimes": runtimes,
                        "ratios": ratios,
                    })
                })
                .collect();
            json!({
                "name": g.group.name(),
                "load": g.load,
                "warmup": g.warmup,
                "runs": g.runs,
                "notes": g.notes,
                "rows": rows,
            })
        })
        .collect();
    Value::Array(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contender(runtime: &'static str, rate: &[f64], p50: f64, p99: f64) -> Contender {
        Contender {
            runtime,
            figures: vec![
                rate.to_vec(),
                vec![p50; rate.len()],
                vec![p99; rate.len()],
                vec![4e3; rate.len()],
                vec![0.5; rate.len()],
                vec![0.25; rate.len()],
                vec![if counts_io(runtime) { 1.5 } else { f64::NAN }; rate.len()],
                vec![if counts_io(runtime) { 0.125 } else { f64::NAN }; rate.len()],
            ],
            error: None,
        }
    }

    fn result() -> NetResult {
        NetResult {
            group: NetGroup::Echo,
            warmup: 1,
            runs: 3,
            load: "client: test".into(),
            rows: vec![NetRow {
                case: "1 KiB x 8 conn".into(),
                workers: Placement::spread(2),
                contenders: vec![
                    contender("zokio", &[90e3, 100e3, 110e3], 20e3, 50e3),
                    contender(POLL, &[80e3, 80e3, 80e3], 30e3, 60e3),
                    contender("tokio", &[50e3, 50e3, 50e3], 40e3, 90e3),
                    Contender {
                        runtime: "monoio",
                        figures: vec![],
                        error: Some("no ring".into()),
                    },
                    contender("floor", &[200e3, 200e3, 200e3], 10e3, 20e3),
                ],
            }],
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn names_and_plans() {
        for g in NetGroup::ALL {
            assert_eq!(NetGroup::expand(g.name()), vec![g]);
            for quick in [false, true] {
                assert!(g.plan(quick).runs >= 3);
            }
            assert_eq!(g.runtimes()[0], "zokio");
            assert!(!g.peers().contains(&"zokio"));
            assert!(!g.peers().contains(&POLL));
        }
        // The poll row comes right after Zokio's own, its label saying which driver.
        assert_eq!(NetGroup::Echo.runtimes()[1], POLL);
        assert_eq!(NetGroup::Echo.peers(), ["tokio", "monoio", "floor"]);
        assert_eq!(label(POLL), "zokio (poll)");
        assert_eq!(label("tokio"), "tokio");
        assert_eq!(NetGroup::expand("net"), NetGroup::ALL.to_vec());
        assert!(NetGroup::expand("nope").is_empty());
    }

    #[test]
    fn worker_lists() {
        let spread = Placement::spread;
        assert_eq!(parse_workers("1,2").unwrap(), vec![spread(1), spread(2)]);
        assert_eq!(parse_workers("4").unwrap(), vec![spread(4)]);
        assert_eq!(parse_workers("2,2,1,").unwrap(), vec![spread(2), spread(1)]);
        assert_eq!(
            parse_workers("2,2p,2p").unwrap(),
            vec![spread(2), Placement::one_cpu(2)]
        );
        assert!(parse_workers("2x").is_err());
        assert!(parse_workers("0").is_err());
        assert!(parse_workers("one").is_err());
        assert!(parse_workers(",").is_err());
    }

    #[test]
    fn table_shows_rates_ratios_latencies_and_failures() {
        let t = table(&[result()]);
        assert!(t.contains("echo (client: test)"));
        // The poll row sits beside zokio's, with no ratio of its own.
        assert!(t.contains(
            "| case | workers | zokio rt/s | zokio (poll) rt/s | tokio rt/s | monoio rt/s | \
             floor rt/s | zokio/tokio | zokio/monoio | zokio/floor | \
             p50 zokio / zokio (poll) / tokio / monoio / floor | \
             p99 zokio / zokio (poll) / tokio / monoio / floor | \
             server CPU/rt zokio / zokio (poll) / tokio / monoio / floor | \
             server cs/rt zokio / zokio (poll) / tokio / monoio / floor | \
             client CPU zokio / zokio (poll) / tokio / monoio / floor | \
             zokio driver calls / wake writes per rt |"
        ));
        assert!(t.contains(
            "| 1 KiB x 8 conn | 2 | 100.0 k rt/s | 80.0 k rt/s | 50.0 k rt/s | n/a | \
             200.0 k rt/s | 2.00 | n/a | 0.50 | \
             20.0 µs / 30.0 µs / 40.0 µs / n/a / 10.0 µs | \
             50.0 µs / 60.0 µs / 90.0 µs / n/a / 20.0 µs | \
             4.0 µs / 4.0 µs / 4.0 µs / n/a / 4.0 µs | 0.250 / 0.250 / 0.250 / n/a / 0.250 | \
             50% / 50% / 50% / n/a / 50% | 1.500 / 0.125 |"
        ));
        assert!(!t.contains("zokio/zokio"));
        assert!(t.contains("the zokio (poll) column is informational"));
        assert!(t.contains("- echo: a note"));
        assert!(t.contains("- echo 1 KiB x 8 conn at 2 worker(s) on monoio: no ring"));
    }

    #[test]
    fn json_keeps_samples_and_ratios() {
        let v = json(&[result()]);
        let row = &v[0]["rows"][0];
        assert_eq!(row["workers"], json!(2));
        assert_eq!(
            row["runtimes"]["zokio"]["per_second"]["samples"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(row["runtimes"]["tokio"]["p99_ns"]["median"], json!(90e3));
        assert_eq!(
            row["runtimes"]["zokio"]["server_cpu_ns_per_exchange"]["median"],
            json!(4e3)
        );
        assert_eq!(
            row["runtimes"]["zokio"]["client_cpu_share"]["median"],
            json!(0.5)
        );
        assert_eq!(
            row["runtimes"]["zokio"]["server_context_switches_per_exchange"]["median"],
            json!(0.25)
        );
        assert_eq!(row["ratios"]["zokio_over_tokio"], json!(2.0));
        assert_eq!(row["ratios"]["zokio_over_monoio"], Value::Null);
        assert_eq!(row["ratios"]["zokio_over_floor"], json!(0.5));
        assert!(row["ratios"].get("zokio_over_zokio-poll").is_none());
        assert_eq!(row["runtimes"][POLL]["informational"], json!(true));
        assert_eq!(
            row["runtimes"][POLL]["driver_calls_per_exchange"]["median"],
            json!(1.5)
        );
        assert!(row["runtimes"]["zokio"].get("informational").is_none());
        assert_eq!(
            row["runtimes"]["zokio"]["driver_calls_per_exchange"]["median"],
            json!(1.5)
        );
        assert!(row["runtimes"]["tokio"]
            .get("driver_calls_per_exchange")
            .is_none());
        assert_eq!(
            row["runtimes"]["monoio"]["per_second"]["error"],
            json!("no ring")
        );
    }

    #[test]
    fn ratios_pair_the_rounds() {
        let row = NetRow {
            case: "c".into(),
            workers: Placement::spread(1),
            contenders: vec![
                contender("zokio", &[100.0, 200.0, 50.0], 0.0, 0.0),
                contender("tokio", &[50.0, 400.0, 100.0], 0.0, 0.0),
            ],
        };
        // Round by round: 2, 0.5, 0.5; the medians alone would say 1.
        assert_eq!(row.ratio("tokio"), Some(0.5));
        assert_eq!(row.ratio("monoio"), None);
    }

    #[test]
    fn rounds_rotate_within_each_case_and_survive_panics() {
        let dog = Watchdog::start();
        let mut order = Vec::new();
        let cases = vec![
            ("a".to_string(), Placement::spread(1)),
            ("b".to_string(), Placement::spread(2)),
        ];
        let plan = Plan { warmup: 1, runs: 2 };
        let rows = collect(NetGroup::Http, &cases, plan, &dog, |rt, k, w| {
            order.push(format!("{rt}{k}{}", w.workers));
            if rt == "tokio" && k == 1 {
                panic!("broken");
            }
            vec![k as f64, 1.0, 2.0]
        });
        assert_eq!(
            order,
            [
                "zokio01", "tokio01", "floor01", "zokio12", "tokio12", "floor12", // warm-up
                "tokio01", "floor01", "zokio01", "floor12", "zokio12", // tokio12 has failed
                "floor01", "zokio01", "tokio01", "floor12", "zokio12",
            ]
        );
        assert_eq!(rows[0].contenders[0].figures[0], vec![0.0, 0.0]);
        assert_eq!(rows[1].contenders[0].figures[2], vec![2.0, 2.0]);
        assert!(rows[1].contenders[1].figures.is_empty());
        assert_eq!(rows[1].contenders[1].error.as_deref(), Some("broken"));
    }

    #[test]
    fn size_labels() {
        assert_eq!(size_label(1024), "1 KiB");
        assert_eq!(size_label(100), "100 B");
    }
}
