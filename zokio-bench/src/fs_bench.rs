//! The `fs` group: Zokio's `zokio::fs` against `tokio::fs` and `std::fs` on
//! plain threads, on the same files: 4 KiB random reads at queue depth 1 and
//! 64, 1 MiB sequential reads and writes, and creating and removing many
//! small files. Zokio runs twice: on its default driver, and forced onto its
//! poll(2) driver (`zokio-poll`, the fallback), the same code on both; the
//! poll column is informational, in no ratio and under no target.
//!
//! The files are made once per run in the system's temporary directory,
//! written with pseudo-random bytes and read once so every read afterwards
//! comes from the page cache, and deleted at the end. Every contender runs
//! once per round, in an order that rotates from round to round; the first
//! round is a warm-up and dropped, and medians are reported, the ratios being
//! the medians of each round's ratio.

use std::fmt::Write as _;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use serde_json::{json, Value};

use crate::net::{label, POLL};
use crate::report::samples_json;
use crate::stats::{ratio, Summary};
use crate::{panic_message, Plan, Watchdog};

pub const NAME: &str = "fs";
const CONTENDERS: [&str; 4] = ["zokio", POLL, "tokio", "std"];
/// Indices into `CONTENDERS` (and each row's samples and errors).
const POLL_AT: usize = 1;
const TOKIO_AT: usize = 2;
const STD_AT: usize = 3;
const WORKERS: usize = 2;
const BLOCK: usize = 4096;
const CHUNK: usize = 1 << 20;
/// Passes over the sequential file per measurement: one pass of a 256 MiB file
/// takes about 10 ms, too short to time on a shared machine.
const SEQ_PASSES: u64 = 4;
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const SMALL_FILE: &[u8] = &[0x5a; 100];
const CREATE_TASKS: usize = 64;
const STD_THREADS_CAP: usize = 64;

/// A fixed-seed xorshift64 generator: the same positions for every contender.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        // Zero is xorshift's one fixed point.
        XorShift(if seed == 0 { SEED } else { seed })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// The next `block`-aligned offset at which a whole block fits in a file
    /// of `len` bytes.
    pub fn aligned_offset(&mut self, len: u64, block: u64) -> u64 {
        let blocks = (len / block).max(1);
        (self.next_u64() % blocks) * block
    }
}

/// The seed of task (or thread) `i`'s generator.
fn task_seed(i: usize) -> u64 {
    SEED ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    RandRead {
        depth: usize,
    },
    SeqRead,
    SeqWrite,
    CreateRemove,
    /// Read the small files whole from `tasks` tasks (std: at most 2 threads).
    ReadWhole {
        tasks: usize,
    },
}

impl Case {
    fn label(self, sizes: &Sizes) -> String {
        match self {
            Case::RandRead { depth } => format!(
                "4 KiB random read, depth {depth} ({} MiB file)",
                sizes.rand_file >> 20
            ),
            Case::SeqRead => format!("1 MiB sequential read ({} MiB)", sizes.seq_file >> 20),
            Case::SeqWrite => format!("1 MiB sequential write ({} MiB)", sizes.seq_file >> 20),
            Case::CreateRemove => format!("create + remove {} files", sizes.files),
            Case::ReadWhole { tasks: 1 } => {
                format!("read {} small files whole, 1 task", sizes.files)
            }
            Case::ReadWhole { tasks } => {
                format!("read {} small files whole, {tasks} tasks", sizes.files)
            }
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Case::RandRead { .. } => "reads/s",
            Case::SeqRead | Case::SeqWrite => "MB/s",
            Case::CreateRemove | Case::ReadWhole { .. } => "files/s",
        }
    }
}

const CASES: [Case; 7] = [
    Case::RandRead { depth: 1 },
    Case::RandRead { depth: 64 },
    Case::SeqRead,
    Case::SeqWrite,
    Case::CreateRemove,
    Case::ReadWhole { tasks: 1 },
    Case::ReadWhole {
        tasks: CREATE_TASKS,
    },
];

#[derive(Clone, Debug, PartialEq, Eq)]
struct Sizes {
    rand_file: u64,
    seq_file: u64,
    files: usize,
    /// Random reads per run at depth 1 and at depth 64.
    reads: [usize; 2],
}

fn sizes(quick: bool) -> Sizes {
    if quick {
        Sizes {
            rand_file: 64 << 20,
            seq_file: 64 << 20,
            // Half of what they were: tokio::fs's random reads (about 10 k a
            // second at depth 1 on two CPUs) and the creating and removing
            // took most of --quick's minute; Zokio's share of a run is still
            // tens of milliseconds, each side still warmed up first.
            files: 500,
            reads: [10_000, 64_000],
        }
    } else {
        Sizes {
            rand_file: 1 << 30,
            seq_file: 256 << 20,
            files: 10_000,
            reads: [50_000, 400_000],
        }
    }
}

/// Halves the files until three times their size fits in `free` bytes (never
/// below 16 MiB each); `None` if nothing had to change.
fn fit(mut s: Sizes, free: u64) -> Option<Sizes> {
    let orig = s.clone();
    while 3 * (s.rand_file + s.seq_file) > free && s.rand_file.max(s.seq_file) > 16 << 20 {
        s.rand_file = (s.rand_file / 2).max(16 << 20);
        s.seq_file = (s.seq_file / 2).max(16 << 20);
    }
    (s != orig).then_some(s)
}

fn free_bytes(dir: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `statvfs` is plain data; zeroed is a valid value to overwrite.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Writes `len` pseudo-random bytes to `path`, then reads them back once so
/// the page cache holds them.
fn make_file(path: &Path, len: u64) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    let mut rng = XorShift::new(SEED);
    let mut chunk = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        for w in chunk.chunks_exact_mut(8) {
            w.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        let n = left.min(CHUNK as u64) as usize;
        f.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    drop(f);
    let mut f = std::fs::File::open(path)?;
    while f.read(&mut chunk)? > 0 {}
    Ok(())
}

pub struct FsRow {
    pub case: String,
    pub unit: &'static str,
    /// Per contender (in `CONTENDERS` order): one rate per measured run.
    pub samples: Vec<Vec<f64>>,
    pub errors: Vec<Option<String>>,
}

impl FsRow {
    fn median(&self, i: usize) -> Option<f64> {
        Summary::of(&self.samples[i]).map(|s| s.median)
    }

    /// Zokio's rate (on its default driver) over contender `i`'s, the median
    /// of the rounds' ratios.
    fn ratio(&self, i: usize) -> Option<f64> {
        let (z, p) = (&self.samples[0], &self.samples[i]);
        if z.len() != p.len() || self.errors[0].is_some() || self.errors[i].is_some() {
            return None;
        }
        // `ratio(peer, zokio)` is peer/zokio; rates want zokio/peer.
        let per_round: Vec<f64> = z.iter().zip(p).filter_map(|(&z, &p)| ratio(z, p)).collect();
        Summary::of(&per_round).map(|s| s.median)
    }

    /// The ratios the table shows, by peer.
    pub fn ratios(&self) -> [(&'static str, Option<f64>); 2] {
        [
            ("tokio", self.ratio(TOKIO_AT)),
            ("std::fs", self.ratio(STD_AT)),
        ]
    }
}

pub struct FsResult {
    pub warmup: usize,
    pub runs: usize,
    pub rows: Vec<FsRow>,
    pub notes: Vec<String>,
}

pub fn plan(quick: bool) -> Plan {
    Plan {
        warmup: 1,
        runs: if quick { 1 } else { 5 },
    }
}

struct Env {
    zokio: zokio::runtime::Runtime,
    /// The same runtime on the poll driver, or why it could not be built
    /// (that contender then fails every case, the others run on).
    zokio_poll: Result<zokio::runtime::Runtime, String>,
    tokio: tokio::runtime::Runtime,
    dir: PathBuf,
    rand_path: PathBuf,
    seq_path: PathBuf,
    /// `sizes.files` small files, made once, for `ReadWhole`.
    small_dir: PathBuf,
    sizes: Sizes,
}

pub fn run(quick: bool, dog: &Watchdog) -> FsResult {
    let plan = plan(quick);
    let mut sizes = sizes(quick);
    let mut notes = Vec::new();
    let tmp = std::env::temp_dir();
    match free_bytes(&tmp) {
        Ok(free) => {
            if let Some(smaller) = fit(sizes.clone(), free) {
                let msg = format!(
                    "ONLY {} MiB FREE in {}: files shrunk from {} + {} MiB to {} + {} MiB",
                    free >> 20,
                    tmp.display(),
                    sizes.rand_file >> 20,
                    sizes.seq_file >> 20,
                    smaller.rand_file >> 20,
                    smaller.seq_file >> 20
                );
                eprintln!("zokio-bench: fs: {msg}");
                notes.push(msg);
                sizes = smaller;
            }
        }
        Err(e) => eprintln!("zokio-bench: fs: statvfs on {}: {e}", tmp.display()),
    }
    let dir = tmp.join(format!("zokio-bench-fs-{}", std::process::id()));
    let setup = (|| -> io::Result<Env> {
        std::fs::create_dir_all(&dir)?;
        let rand_path = dir.join("random.bin");
        let seq_path = dir.join("sequential.bin");
        make_file(&rand_path, sizes.rand_file)?;
        make_file(&seq_path, sizes.seq_file)?;
        let small_dir = dir.join("small");
        std::fs::create_dir(&small_dir)?;
        for i in 0..sizes.files {
            std::fs::write(small_name(&small_dir, i), SMALL_FILE)?;
        }
        let zokio = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("zokio-bench-fs")
            .build()?;
        let zokio_poll = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("zokio-bench-fs-poll")
            .driver(zokio::runtime::Driver::Poll)
            .build()
            .map_err(|e| format!("building Zokio on the poll driver: {e}"));
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("tokio-bench-fs")
            .enable_all()
            .build()?;
        Ok(Env {
            zokio,
            zokio_poll,
            tokio,
            dir: dir.clone(),
            rand_path,
            seq_path,
            small_dir,
            sizes: sizes.clone(),
        })
    })();
    let env = match setup {
        Ok(env) => env,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            let msg = format!("setting up in {}: {e}", dir.display());
            return FsResult {
                warmup: plan.warmup,
                runs: plan.runs,
                rows: CASES
                    .iter()
                    .map(|c| FsRow {
                        case: c.label(&sizes),
                        unit: c.unit(),
                        samples: vec![Vec::new(); CONTENDERS.len()],
                        errors: vec![Some(msg.clone()); CONTENDERS.len()],
                    })
                    .collect(),
                notes,
            };
        }
    };
    let driver = env.zokio.driver_kind();
    let poll_driver = match &env.zokio_poll {
        Ok(rt) => rt.driver_kind().to_string(),
        Err(e) => e.clone(),
    };
    let mut rows: Vec<FsRow> = CASES
        .iter()
        .map(|c| {
            let mut errors = vec![None; CONTENDERS.len()];
            errors[POLL_AT] = env.zokio_poll.as_ref().err().cloned();
            FsRow {
                case: c.label(&sizes),
                unit: c.unit(),
                samples: vec![Vec::new(); CONTENDERS.len()],
                errors,
            }
        })
        .collect();
    for round in 0..plan.warmup + plan.runs {
        for (k, row) in rows.iter_mut().enumerate() {
            for j in 0..CONTENDERS.len() {
                let i = (round + j) % CONTENDERS.len();
                if row.errors[i].is_some() {
                    continue;
                }
                thread::sleep(crate::SETTLE);
                let who = CONTENDERS[i];
                let got = dog.guard(
                    || format!("fs {} on {who}", row.case),
                    || {
                        panic::catch_unwind(AssertUnwindSafe(|| {
                            one(&env, CASES[k], who, round)
                                .unwrap_or_else(|e| panic!("{}: {e}", row.case))
                        }))
                    },
                );
                match got {
                    Ok(v) if round >= plan.warmup => row.samples[i].push(v),
                    Ok(_) => {}
                    Err(p) => {
                        row.samples[i].clear();
                        row.errors[i] = Some(panic_message(&*p));
                    }
                }
            }
        }
    }
    drop(env);
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("zokio-bench: fs: removing {}: {e}", dir.display());
    }
    notes.extend([
        format!(
            "zokio: multi_thread runtime, {WORKERS} workers, default driver: {driver}; \
             tokio::fs: multi_thread runtime, {WORKERS} workers (tokio::fs runs every call on \
             its blocking pool); std::fs: plain threads; zokio (poll): the same runtime and the \
             same operations, forced onto Zokio's poll(2) driver (Driver::Poll, the fallback; \
             driver: {poll_driver}), for information only: no target, no zokio/peer ratio"
        ),
        format!(
            "files in {} written with pseudo-random bytes and read once before measuring: every \
             read is from the page cache, and writes are not synced (no disk I/O is measured)",
            tmp.display()
        ),
        format!(
            "random reads: 4 KiB-aligned offsets from fixed-seed xorshift64 generators, {} reads \
             per run at depth 1 and {} at depth 64; zokio: N tasks sharing one File, \
             read_exact_at (read_at looped) with an owned 4 KiB Vec; tokio: N tasks each \
             with its own File on the same path, seek + read_exact; std: N threads \
             (at most {STD_THREADS_CAP}) with FileExt::read_at",
            sizes.reads[0], sizes.reads[1]
        ),
        format!(
            "sequential: {SEQ_PASSES} passes over the file in 1 MiB steps; zokio read_exact_at / \
             write_all_at with one 1 MiB Vec, tokio AsyncReadExt::read_exact / \
             AsyncWriteExt::write_all (+ flush), std read_exact / write_all, rewinding between \
             passes; MB = 10^6 bytes"
        ),
        format!(
            "create + remove: {} files of {} bytes in a fresh directory, each written then all \
             removed; zokio::fs::write + remove_file and tokio::fs::write + remove_file over \
             {CREATE_TASKS} tasks, std::fs on 2 threads",
            sizes.files,
            SMALL_FILE.len()
        ),
        format!(
            "read whole: the same number of {}-byte files, made once, each read with fs::read \
             and its contents checked; zokio, tokio: 1 task, or {CREATE_TASKS} tasks; std: 1 \
             thread, or 2",
            SMALL_FILE.len()
        ),
        "targets (issue 5): random reads at depth 64 at least 3x tokio::fs; sequential \
         throughput at least std::fs (zokio on its default driver; none for zokio (poll))"
            .into(),
    ]);
    FsResult {
        warmup: plan.warmup,
        runs: plan.runs,
        rows,
        notes,
    }
}

impl Env {
    /// The Zokio runtime contender `who` runs on.
    fn zokio(&self, who: &str) -> io::Result<&zokio::runtime::Runtime> {
        if who != POLL {
            return Ok(&self.zokio);
        }
        self.zokio_poll
            .as_ref()
            .map_err(|e| io::Error::other(e.clone()))
    }
}

/// One run: the rate reached.
fn one(env: &Env, case: Case, who: &str, round: usize) -> io::Result<f64> {
    let started = Instant::now();
    let ops = match case {
        Case::RandRead { depth } => {
            let reads = env.sizes.reads[usize::from(depth > 1)];
            rand_read(env, who, depth, reads / depth)? as f64
        }
        Case::SeqRead => {
            seq(env, who, false)?;
            (SEQ_PASSES * env.sizes.seq_file) as f64 / 1e6
        }
        Case::SeqWrite => {
            seq(env, who, true)?;
            (SEQ_PASSES * env.sizes.seq_file) as f64 / 1e6
        }
        Case::CreateRemove => {
            let dir = env.dir.join(format!("files-{who}-{round}"));
            std::fs::create_dir(&dir)?;
            let started = Instant::now();
            create_remove(env, who, &dir)?;
            let took = started.elapsed();
            std::fs::remove_dir_all(&dir)?;
            return Ok(env.sizes.files as f64 / took.as_secs_f64());
        }
        Case::ReadWhole { tasks } => {
            read_whole(env, who, tasks)?;
            env.sizes.files as f64
        }
    };
    Ok(ops / started.elapsed().as_secs_f64())
}

fn join_all<T>(results: Vec<io::Result<T>>) -> io::Result<Vec<T>> {
    results.into_iter().collect()
}

fn rand_read(env: &Env, who: &str, depth: usize, per_task: usize) -> io::Result<usize> {
    let len = env.sizes.rand_file;
    let path = env.rand_path.clone();
    match who {
        "zokio" | POLL => env.zokio(who)?.block_on(async move {
            let file = Arc::new(zokio::fs::File::open(&path).await?);
            let tasks: Vec<_> = (0..depth)
                .map(|t| {
                    let file = file.clone();
                    zokio::spawn(async move {
                        let mut rng = XorShift::new(task_seed(t));
                        let mut buf = Vec::with_capacity(BLOCK);
                        for _ in 0..per_task {
                            let off = rng.aligned_offset(len, BLOCK as u64);
                            let (res, b) = file.read_exact_at(buf, off).await;
                            res?;
                            buf = b;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.map_err(io::Error::other)?);
            }
            join_all(out)?;
            Ok(depth * per_task)
        }),
        "tokio" => env.tokio.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            let tasks: Vec<_> = (0..depth)
                .map(|t| {
                    let path = path.clone();
                    tokio::spawn(async move {
                        let mut file = tokio::fs::File::open(&path).await?;
                        let mut rng = XorShift::new(task_seed(t));
                        let mut buf = vec![0u8; BLOCK];
                        for _ in 0..per_task {
                            let off = rng.aligned_offset(len, BLOCK as u64);
                            file.seek(SeekFrom::Start(off)).await?;
                            file.read_exact(&mut buf).await?;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.map_err(io::Error::other)?);
            }
            join_all(out)?;
            Ok(depth * per_task)
        }),
        _ => {
            let file = Arc::new(std::fs::File::open(&path)?);
            let threads = depth.min(STD_THREADS_CAP);
            let per_thread = depth * per_task / threads;
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let file = file.clone();
                    thread::spawn(move || {
                        let mut rng = XorShift::new(task_seed(t));
                        let mut buf = vec![0u8; BLOCK];
                        for _ in 0..per_thread {
                            let off = rng.aligned_offset(len, BLOCK as u64);
                            file.read_exact_at(&mut buf, off)?;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join()
                    .map_err(|_| io::Error::other("a reader panicked"))??;
            }
            Ok(threads * per_thread)
        }
    }
}

fn seq(env: &Env, who: &str, write: bool) -> io::Result<()> {
    let len = env.sizes.seq_file;
    let path = env.seq_path.clone();
    let steps = SEQ_PASSES * (len / CHUNK as u64);
    let file_steps = len / CHUNK as u64;
    match who {
        // Both async contenders run the pass in a spawned task, on a worker, as an
        // application would (a `block_on` thread is not a worker).
        "zokio" | POLL => env.zokio(who)?.block_on(async move {
            let pass = zokio::spawn(async move {
                let file = zokio::fs::OpenOptions::new()
                    .read(true)
                    .write(write)
                    .open(&path)
                    .await?;
                let mut buf = if write {
                    vec![0xa5u8; CHUNK]
                } else {
                    Vec::with_capacity(CHUNK)
                };
                for s in 0..steps {
                    let off = (s % file_steps) * CHUNK as u64;
                    let (res, b) = if write {
                        file.write_all_at(buf, off).await
                    } else {
                        file.read_exact_at(buf, off).await
                    };
                    res?;
                    buf = b;
                }
                Ok::<(), io::Error>(())
            });
            pass.await.map_err(io::Error::other)?
        }),
        "tokio" => env.tokio.block_on(async move {
            let pass = tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
                let mut file = tokio::fs::OpenOptions::new()
                    .read(true)
                    .write(write)
                    .open(&path)
                    .await?;
                let mut buf = vec![0xa5u8; CHUNK];
                for s in 0..steps {
                    if s % file_steps == 0 {
                        file.seek(SeekFrom::Start(0)).await?;
                    }
                    if write {
                        file.write_all(&buf).await?;
                    } else {
                        file.read_exact(&mut buf).await?;
                    }
                }
                if write {
                    file.flush().await?;
                }
                Ok::<(), io::Error>(())
            });
            pass.await.map_err(io::Error::other)?
        }),
        _ => {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(write)
                .open(&path)?;
            let mut buf = vec![0xa5u8; CHUNK];
            for s in 0..steps {
                if s % file_steps == 0 {
                    file.seek(SeekFrom::Start(0))?;
                }
                if write {
                    file.write_all(&buf)?;
                } else {
                    file.read_exact(&mut buf)?;
                }
            }
            Ok(())
        }
    }
}

/// The async contenders' create + remove: the same tasks on either runtime, each
/// writing its share of the files and then removing them.
macro_rules! create_remove_tasks {
    ($rt:expr, ($dir:ident, $files:ident, $name:ident), $spawn:path, $write:path, $remove:path) => {
        $rt.block_on(async {
            let tasks: Vec<_> = (0..CREATE_TASKS)
                .map(|t| {
                    let dir = $dir.to_path_buf();
                    $spawn(async move {
                        for i in (t..$files).step_by(CREATE_TASKS) {
                            $write($name(&dir, i), SMALL_FILE).await?;
                        }
                        for i in (t..$files).step_by(CREATE_TASKS) {
                            $remove($name(&dir, i)).await?;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            for t in tasks {
                t.await.map_err(io::Error::other)??;
            }
            Ok(())
        })
    };
}

fn small_name(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("f{i}"))
}

/// The async contenders' whole-file reads: the same tasks on either runtime, each
/// reading its share of the small files and checking every length.
macro_rules! read_whole_tasks {
    ($rt:expr, $dir:expr, ($files:expr, $tasks:expr), $spawn:path, $read:path) => {
        $rt.block_on(async {
            let tasks: Vec<_> = (0..$tasks)
                .map(|t| {
                    let dir = $dir.to_path_buf();
                    $spawn(async move {
                        for i in (t..$files).step_by($tasks) {
                            check_small($read(small_name(&dir, i)).await?)?;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            for t in tasks {
                t.await.map_err(io::Error::other)??;
            }
            Ok(())
        })
    };
}

fn check_small(got: Vec<u8>) -> io::Result<()> {
    if got != SMALL_FILE {
        return Err(io::Error::other(format!(
            "a small file read back {} bytes, not its {}",
            got.len(),
            SMALL_FILE.len()
        )));
    }
    Ok(())
}

fn read_whole(env: &Env, who: &str, tasks: usize) -> io::Result<()> {
    let (files, dir) = (env.sizes.files, env.small_dir.as_path());
    match who {
        "zokio" | POLL => {
            read_whole_tasks!(
                env.zokio(who)?,
                dir,
                (files, tasks),
                zokio::spawn,
                zokio::fs::read
            )
        }
        "tokio" => {
            read_whole_tasks!(
                env.tokio,
                dir,
                (files, tasks),
                tokio::spawn,
                tokio::fs::read
            )
        }
        _ => {
            let threads = tasks.min(2);
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let dir = dir.to_path_buf();
                    thread::spawn(move || {
                        for i in (t..files).step_by(threads) {
                            check_small(std::fs::read(small_name(&dir, i))?)?;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join()
                    .map_err(|_| io::Error::other("a worker panicked"))??;
            }
            Ok(())
        }
    }
}

fn create_remove(env: &Env, who: &str, dir: &Path) -> io::Result<()> {
    let files = env.sizes.files;
    let name = small_name;
    match who {
        "zokio" | POLL => create_remove_tasks!(
            env.zokio(who)?,
            (dir, files, name),
            zokio::spawn,
            zokio::fs::write,
            zokio::fs::remove_file
        ),
        "tokio" => create_remove_tasks!(
            env.tokio,
            (dir, files, name),
            tokio::spawn,
            tokio::fs::write,
            tokio::fs::remove_file
        ),
        _ => {
            let handles: Vec<_> = (0..2)
                .map(|t| {
                    let dir = dir.to_path_buf();
                    thread::spawn(move || {
                        for i in (t..files).step_by(2) {
                            std::fs::write(name(&dir, i), SMALL_FILE)?;
                        }
                        for i in (t..files).step_by(2) {
                            std::fs::remove_file(name(&dir, i))?;
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join()
                    .map_err(|_| io::Error::other("a worker panicked"))??;
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- report

fn fmt_rate(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "n/a".into(),
        Some(v) if unit == "MB/s" => format!("{v:.0} {unit}"),
        Some(v) if v >= 1e6 => format!("{:.2} M {unit}", v / 1e6),
        Some(v) => format!("{:.1} k {unit}", v / 1e3),
    }
}

pub fn table(r: &FsResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fs (zokio::fs, also on its poll driver, vs tokio::fs vs std::fs on threads)\n"
    );
    let _ = writeln!(
        out,
        "| case | zokio | {} | tokio::fs | std::fs | zokio/tokio | zokio/std |",
        label(POLL)
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for row in &r.rows {
        let cell = |x: Option<f64>| x.map_or("n/a".into(), |x| format!("{x:.2}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.case,
            fmt_rate(row.median(0), row.unit),
            fmt_rate(row.median(POLL_AT), row.unit),
            fmt_rate(row.median(TOKIO_AT), row.unit),
            fmt_rate(row.median(STD_AT), row.unit),
            cell(row.ratio(TOKIO_AT)),
            cell(row.ratio(STD_AT)),
        );
    }
    out.push_str("\nnotes:\n");
    for note in &r.notes {
        let _ = writeln!(out, "- fs: {note}");
    }
    let _ = writeln!(
        out,
        "- fs: medians of {} measured run(s) after {} warm-up round(s) per contender, a case's \
         contenders back to back, the first rotating from round to round; zokio/peer is the \
         median of the rounds' ratios, above 1 means Zokio was faster; the {} column is \
         informational: in no ratio, under no target",
        r.runs,
        r.warmup,
        label(POLL)
    );
    let mut failed = Vec::new();
    for row in &r.rows {
        for (i, e) in row.errors.iter().enumerate() {
            if let Some(e) = e {
                failed.push(format!(
                    "- fs {} on {}: {e}",
                    row.case,
                    label(CONTENDERS[i])
                ));
            }
        }
    }
    if !failed.is_empty() {
        out.push_str("\nfailed:\n");
        for f in failed {
            let _ = writeln!(out, "{f}");
        }
    }
    out
}

pub fn json(r: &FsResult) -> Value {
    let rows: Vec<Value> = r
        .rows
        .iter()
        .map(|row| {
            let mut runtimes = serde_json::Map::new();
            for (i, c) in CONTENDERS.iter().enumerate() {
                let mut entry = samples_json(&row.samples[i], row.errors[i].as_deref());
                if i == POLL_AT {
                    entry.insert("informational".into(), json!(true));
                }
                runtimes.insert((*c).into(), Value::Object(entry));
            }
            json!({
                "case": row.case,
                "unit": row.unit,
                "runtimes": runtimes,
                "ratios": {
                    "zokio_over_tokio": row.ratio(TOKIO_AT),
                    "zokio_over_std": row.ratio(STD_AT),
                },
            })
        })
        .collect();
    json!({
        "name": NAME,
        "warmup": r.warmup,
        "runs": r.runs,
        "notes": r.notes,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_aligned_in_range_and_repeatable() {
        let len = 64 << 20;
        let mut a = XorShift::new(task_seed(3));
        let mut b = XorShift::new(task_seed(3));
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let off = a.aligned_offset(len, BLOCK as u64);
            assert_eq!(off % BLOCK as u64, 0);
            assert!(off + BLOCK as u64 <= len);
            assert_eq!(off, b.aligned_offset(len, BLOCK as u64));
            distinct.insert(off);
        }
        // 16,384 blocks: random picks should spread over many of them.
        assert!(distinct.len() > 4_000);
        assert_ne!(
            XorShift::new(task_seed(0)).next_u64(),
            XorShift::new(task_seed(1)).next_u64()
        );
        // A zero seed would stick at zero.
        assert_ne!(XorShift::new(0).next_u64(), 0);
        // A file smaller than a block still gives offset 0.
        assert_eq!(XorShift::new(7).aligned_offset(100, 4096), 0);
    }

    #[test]
    fn fitting_files_into_free_space() {
        let full = sizes(false);
        assert_eq!(fit(full.clone(), u64::MAX), None);
        let s = fit(full.clone(), 3 * (512 << 20)).unwrap();
        assert!(3 * (s.rand_file + s.seq_file) <= 3 * (512 << 20));
        assert_eq!(s.files, full.files);
        let tiny = fit(full, 0).unwrap();
        assert_eq!((tiny.rand_file, tiny.seq_file), (16 << 20, 16 << 20));
    }

    #[test]
    fn table_and_ratios() {
        let r = FsResult {
            warmup: 1,
            runs: 2,
            rows: vec![FsRow {
                case: "c".into(),
                unit: "reads/s",
                samples: vec![
                    vec![300e3, 100e3],
                    vec![150e3, 150e3],
                    vec![100e3, 100e3],
                    vec![],
                ],
                errors: vec![None, None, None, Some("boom".into())],
            }],
            notes: vec!["a note".into()],
        };
        assert_eq!(r.rows[0].ratio(TOKIO_AT), Some(2.0));
        assert_eq!(r.rows[0].ratio(STD_AT), None);
        let t = table(&r);
        assert!(t.contains(
            "| case | zokio | zokio (poll) | tokio::fs | std::fs | zokio/tokio | zokio/std |"
        ));
        assert!(t.contains(
            "| c | 200.0 k reads/s | 150.0 k reads/s | 100.0 k reads/s | n/a | 2.00 | n/a |"
        ));
        assert!(t.contains("- fs: a note"));
        assert!(t.contains("- fs c on std: boom"));
        let v = json(&r);
        assert_eq!(v["rows"][0]["ratios"]["zokio_over_tokio"], json!(2.0));
        // The poll column is kept, marked, and in no ratio.
        let poll = &v["rows"][0]["runtimes"][POLL];
        assert_eq!(poll["median"], json!(150e3));
        assert_eq!(poll["informational"], json!(true));
        assert_eq!(v["rows"][0]["ratios"].as_object().unwrap().len(), 2);
    }

    #[test]
    fn every_case_has_reads_divisible_by_depth() {
        for quick in [false, true] {
            let s = sizes(quick);
            assert_eq!(s.reads[1] % 64, 0);
            assert!(plan(quick).runs >= 1);
        }
    }
}
