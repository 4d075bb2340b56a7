//! Helpers for the networking tests (`net_*`): deterministic payloads, byte-exact
//! comparison, echo servers on both I/O interfaces, the owned buffer types under
//! test, temporary socket paths, hang guards and descriptor-limit helpers.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zokio::io::{BufResult, IoBuf, IoBufMut};
use zokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use zokio::net::{UnixListener, UnixStream};

/// The message sizes every stream round trip is run with: 1 B, 1 KiB, 64 KiB, 1 MiB.
pub const SIZES: [usize; 4] = [1, 1024, 64 * 1024, 1 << 20];

/// How long any single network step may take before the test calls it a hang.
pub const HANG: Duration = Duration::from_secs(60);

/// `len` bytes of deterministic data from `seed` (a xorshift stream, so a byte that
/// lands at the wrong offset or in the wrong connection does not match by chance).
pub fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let word = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let take = (len - out.len()).min(8);
        out.extend_from_slice(&word[..take]);
    }
    out
}

/// Assert `got == want` byte for byte, naming the first difference instead of
/// printing a megabyte of bytes.
#[track_caller]
pub fn assert_bytes_eq(what: &str, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    panic!(
        "{what}: got {} bytes, expected {}; first difference at byte {first} \
         (got {:?}, expected {:?})",
        got.len(),
        want.len(),
        got.get(first),
        want.get(first)
    );
}

/// Await `f`, failing the test if it takes longer than [`HANG`].
pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    match zokio::time::timeout(HANG, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no result within {HANG:?} (hang)"),
    }
}

/// The owned buffer types the native interface is tested with.
pub trait TestBuf: IoBufMut + Sized {
    const NAME: &'static str;
    /// A buffer holding `data` (for writes).
    fn with_data(data: &[u8]) -> Self;
    /// A buffer with room for exactly `capacity` bytes (for reads).
    fn room(capacity: usize) -> Self;
    /// The bytes the buffer holds (for a `Box<[u8]>`, all of it).
    fn data(&self) -> &[u8];
}

impl TestBuf for Vec<u8> {
    const NAME: &'static str = "Vec<u8>";
    fn with_data(data: &[u8]) -> Self {
        data.to_vec()
    }
    fn room(capacity: usize) -> Self {
        let v = Vec::with_capacity(capacity);
        assert_eq!(v.capacity(), capacity, "Vec::with_capacity gave extra room");
        v
    }
    fn data(&self) -> &[u8] {
        self
    }
}

impl TestBuf for Box<[u8]> {
    const NAME: &'static str = "Box<[u8]>";
    fn with_data(data: &[u8]) -> Self {
        data.into()
    }
    fn room(capacity: usize) -> Self {
        // A filler byte that the payloads' checks would notice if it were left over.
        vec![0xEE; capacity].into_boxed_slice()
    }
    fn data(&self) -> &[u8] {
        self
    }
}

impl TestBuf for BytesMut {
    const NAME: &'static str = "BytesMut";
    fn with_data(data: &[u8]) -> Self {
        BytesMut::from(data)
    }
    fn room(capacity: usize) -> Self {
        let b = BytesMut::with_capacity(capacity);
        assert_eq!(
            b.capacity(),
            capacity,
            "BytesMut::with_capacity gave extra room"
        );
        b
    }
    fn data(&self) -> &[u8] {
        self
    }
}

/// The native owned-buffer interface, shared by `TcpStream` and `UnixStream`, so one
/// helper can drive both.
pub trait Native: Send + Sync + 'static {
    fn n_read<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + Send;
    fn n_read_exact<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<(), B>> + Send;
    fn n_write<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + Send;
    fn n_write_all<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<(), B>> + Send;
}

macro_rules! native_impl {
    ($($ty:ty),*) => {$(
        impl Native for $ty {
            fn n_read<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + Send {
                self.read_owned(buf)
            }
            fn n_read_exact<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<(), B>> + Send {
                self.read_exact_owned(buf)
            }
            fn n_write<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + Send {
                self.write_owned(buf)
            }
            fn n_write_all<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<(), B>> + Send {
                self.write_all_owned(buf)
            }
        }
    )*};
}

native_impl!(TcpStream);
#[cfg(unix)]
native_impl!(UnixStream);

/// Send `msg` through an echo peer with `write_all_owned` while reading the echo
/// back with `read_exact_owned` (at the same time: a megabyte does not fit in the
/// socket buffers), both with buffers of type `B`; check every byte.
pub async fn native_round_trip_exact<S: Native, B: TestBuf>(s: &S, msg: &[u8]) {
    let what = format!(
        "{} round trip of {} bytes (read_exact_owned)",
        B::NAME,
        msg.len()
    );
    let (w, r) = within(&what, async {
        zokio::join!(
            s.n_write_all(B::with_data(msg)),
            s.n_read_exact(B::room(msg.len()))
        )
    })
    .await;
    let (res, back) = w;
    res.unwrap_or_else(|e| panic!("{what}: write_all_owned failed: {e}"));
    assert_bytes_eq(
        &format!("{what}: buffer returned by the write"),
        back.data(),
        msg,
    );
    let (res, got) = r;
    res.unwrap_or_else(|e| panic!("{what}: read_exact_owned failed: {e}"));
    assert_bytes_eq(&what, got.data(), msg);
}

/// As [`native_round_trip_exact`], but reading the echo with `read_owned` into
/// buffers of `chunk` bytes until all of it is back, and writing with `write_owned`
/// (short writes resumed by hand).
pub async fn native_round_trip_chunks<S: Native, B: TestBuf>(s: &S, msg: &[u8], chunk: usize) {
    let what = format!(
        "{} round trip of {} bytes (read_owned/write_owned)",
        B::NAME,
        msg.len()
    );
    let writer = async {
        let mut sent = 0;
        while sent < msg.len() {
            let (res, _) = s.n_write(B::with_data(&msg[sent..])).await;
            let n = res.unwrap_or_else(|e| panic!("{what}: write_owned failed: {e}"));
            assert!(n > 0, "{what}: write_owned wrote nothing");
            sent += n;
        }
    };
    let reader = async {
        let mut got = Vec::with_capacity(msg.len());
        let mut buf = B::room(chunk);
        while got.len() < msg.len() {
            let (res, back) = s.n_read(buf).await;
            let n = res.unwrap_or_else(|e| panic!("{what}: read_owned failed: {e}"));
            assert!(n > 0, "{what}: end of stream after {} bytes", got.len());
            assert!(
                n <= chunk,
                "{what}: read_owned returned {n} > capacity {chunk}"
            );
            got.extend_from_slice(&back.data()[..n]);
            buf = back;
        }
        got
    };
    let ((), got) = within(&what, async { zokio::join!(writer, reader) }).await;
    assert_bytes_eq(&what, &got, msg);
}

/// Send `msg` with tokio's `write_all` while reading it back with `read_exact` (a
/// borrowed `split`, so both run at once); check every byte.
pub async fn tokio_round_trip<S>(s: &mut S, msg: &[u8])
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let what = format!("tokio-io round trip of {} bytes", msg.len());
    let (mut rd, mut wr) = tokio::io::split(s);
    let (w, r) = within(&what, async {
        zokio::join!(wr.write_all(msg), async {
            let mut got = vec![0u8; msg.len()];
            rd.read_exact(&mut got).await.map(|n| (n, got))
        })
    })
    .await;
    w.unwrap_or_else(|e| panic!("{what}: write_all failed: {e}"));
    let (n, got) = r.unwrap_or_else(|e| panic!("{what}: read_exact failed: {e}"));
    assert_eq!(n, msg.len(), "{what}: read_exact count");
    assert_bytes_eq(&what, &got, msg);
}

/// Echo with the native interface until end of stream, using buffers of the type
/// chosen by `kind % 3`; returns the bytes echoed.
pub async fn echo_native<S: Native>(s: &S, kind: usize) -> io::Result<u64> {
    match kind % 3 {
        0 => echo_native_with::<S, Vec<u8>>(s).await,
        1 => echo_native_with::<S, Box<[u8]>>(s).await,
        _ => echo_native_with::<S, BytesMut>(s).await,
    }
}

async fn echo_native_with<S: Native, B: TestBuf>(s: &S) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = B::room(64 * 1024);
    loop {
        let (res, back) = s.n_read(buf).await;
        let n = res?;
        if n == 0 {
            return Ok(total);
        }
        // Write exactly the `n` bytes read (a `Box<[u8]>` is all data).
        let (res, _) = s.n_write_all(B::with_data(&back.data()[..n])).await;
        res?;
        total += n as u64;
        buf = back;
    }
}

/// Echo with tokio's `read`/`write_all` until end of stream, then `shutdown`.
pub async fn echo_tokio<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            s.shutdown().await?;
            return Ok(total);
        }
        s.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Which interface an echo server uses.
#[derive(Clone, Copy, Debug)]
pub enum Server {
    Native,
    Tokio,
}

/// Serve `listener` with an echo task per connection until the listener task is
/// aborted; each connection panics (failing the test through its join) on error.
pub fn spawn_tcp_echo(listener: TcpListener, kind: Server) -> zokio::task::JoinHandle<()> {
    zokio::spawn(async move {
        let mut i = 0usize;
        loop {
            let (mut stream, _) = listener.accept().await.expect("accept");
            i += 1;
            zokio::spawn(async move {
                match kind {
                    Server::Native => echo_native(&stream, i).await,
                    Server::Tokio => echo_tokio(&mut stream).await,
                }
                .expect("echo server connection");
            });
        }
    })
}

/// The Unix-socket counterpart of [`spawn_tcp_echo`].
#[cfg(unix)]
pub fn spawn_unix_echo(listener: UnixListener, kind: Server) -> zokio::task::JoinHandle<()> {
    zokio::spawn(async move {
        let mut i = 0usize;
        loop {
            let (mut stream, _) = listener.accept().await.expect("accept");
            i += 1;
            zokio::spawn(async move {
                match kind {
                    Server::Native => echo_native(&stream, i).await,
                    Server::Tokio => echo_tokio(&mut stream).await,
                }
                .expect("echo server connection");
            });
        }
    })
}

/// A fresh socket path in the temporary directory, removed when dropped.
pub struct TempPath(pub PathBuf);

impl TempPath {
    pub fn new(tag: &str) -> TempPath {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("zokio-{tag}-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether `err` is one of `kinds`, with a message naming what was expected.
#[track_caller]
pub fn assert_kind(what: &str, err: &io::Error, kinds: &[io::ErrorKind]) {
    assert!(
        kinds.contains(&err.kind()),
        "{what}: expected one of {kinds:?}, got {:?}: {err}",
        err.kind()
    );
}

/// The soft and hard `RLIMIT_NOFILE`.
#[cfg(unix)]
pub fn nofile_limit() -> (u64, u64) {
    // SAFETY: getrlimit writes into a live struct.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
        (rl.rlim_cur as u64, rl.rlim_max as u64)
    }
}

/// Set the soft `RLIMIT_NOFILE`, keeping the hard one.
#[cfg(unix)]
pub fn set_nofile_soft(soft: u64) {
    let (_, hard) = nofile_limit();
    let rl = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads a live struct.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
    assert_eq!(
        rc,
        0,
        "setrlimit(RLIMIT_NOFILE, {soft}) failed: {}",
        io::Error::last_os_error()
    );
}

/// The descriptor numbers open in this process (from `/proc/self/fd`, without the
/// descriptor used to list them).
#[cfg(unix)]
pub fn open_fds() -> Vec<i32> {
    let dir = std::fs::read_dir("/proc/self/fd").expect("listing /proc/self/fd");
    let mut fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    // The listing's own descriptor is in the list but closed now: keep only those
    // still open.
    fds.retain(|&fd| {
        // SAFETY: F_GETFD only queries the descriptor table.
        unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
    });
    fds.sort_unstable();
    fds
}

/// This process's resident set size in bytes (`/proc/self/statm`).
#[cfg(unix)]
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("reading /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm's second field");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

/// CPU time (user + system) this process has used so far.
#[cfg(unix)]
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into a live struct.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}
