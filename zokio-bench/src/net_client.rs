//! The one load generator of the echo group (and of the HTTP group where
//! `wrk` is missing): a single client thread driving every connection with
//! raw, level-triggered epoll through `libc`, so it costs little CPU and is
//! the same for every server; only the server side differs between runs.
//!
//! Each connection repeats: write the request, read the whole reply, record
//! the round trip's latency, write again at once. Replies are checked (an
//! echo must match byte for byte, an HTTP reply must be `200` with its full
//! `Content-Length` body), so a broken server fails the run instead of
//! looking fast. Round trips that finish during the warm-up are not counted;
//! of the rest, those that finish inside the measured window are. After the
//! window no new request is sent, and the replies still owed are awaited
//! (briefly) before the connections close, so that a server is never cut
//! off in the middle of writing one.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use zokio::runtime::IoCounters;

/// What a reply looks like, and so when it is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The request itself, byte for byte.
    Echo,
    /// An HTTP/1.1 response with status 200 and a `Content-Length` body.
    Http,
}

/// One load: `conns` connections to `addr`, each sending `request` and
/// waiting for its reply, in a loop, for `warmup` then `measure`.
pub struct Load<'a> {
    pub addr: SocketAddr,
    pub conns: usize,
    pub request: &'a [u8],
    pub reply: Reply,
    pub warmup: Duration,
    pub measure: Duration,
    /// Reads the server runtime's I/O counters (Zokio's), read at both edges
    /// of the measured window.
    pub server_io: Option<&'a dyn Fn() -> IoCounters>,
}

/// What one load measured.
#[derive(Debug)]
pub struct Outcome {
    /// Round trips finished inside the measured window.
    pub exchanges: u64,
    /// The measured window as it really ran.
    pub window: Duration,
    /// Each counted round trip's latency in nanoseconds, sorted ascending.
    pub latencies: Vec<u32>,
    /// CPU time the client thread used over the measured window.
    pub client_cpu: Duration,
    /// CPU time the rest of the process (the server under test, where it
    /// runs in this process) used over the measured window.
    pub others_cpu: Duration,
    /// Context switches (voluntary and involuntary) of every thread of the
    /// process but the client's, over the measured window.
    pub others_switches: u64,
    /// What the server runtime's I/O drivers did over the measured window,
    /// where the load was given its counters.
    pub server_io: Option<IoCounters>,
}

impl Outcome {
    /// Round trips per second over the measured window.
    pub fn rate(&self) -> f64 {
        crate::stats::per_second(self.exchanges, self.window.as_nanos() as f64).unwrap_or(0.0)
    }

    /// Share of the measured window the client thread was on a CPU.
    pub fn client_busy(&self) -> f64 {
        self.client_cpu.as_secs_f64() / self.window.as_secs_f64().max(1e-9)
    }

    /// The rest of the process's CPU time per counted round trip, in
    /// nanoseconds.
    pub fn others_cpu_per_exchange(&self) -> f64 {
        self.others_cpu.as_nanos() as f64 / self.exchanges.max(1) as f64
    }

    /// The rest of the process's context switches per counted round trip.
    pub fn others_switches_per_exchange(&self) -> f64 {
        self.others_switches as f64 / self.exchanges.max(1) as f64
    }

    /// The server runtime's I/O counts per counted round trip: kernel calls,
    /// submissions, wake-up writes; NaN each where there are no counters.
    pub fn server_io_per_exchange(&self) -> [f64; 3] {
        let per = |n: u64| n as f64 / self.exchanges.max(1) as f64;
        self.server_io.map_or([f64::NAN; 3], |io| {
            [per(io.kernel_calls), per(io.submitted), per(io.wake_writes)]
        })
    }

    /// Nearest-rank percentile of the latencies, in nanoseconds; NaN when
    /// nothing was counted.
    pub fn latency(&self, q: f64) -> f64 {
        crate::stats::percentile(&self.latencies, q).map_or(f64::NAN, f64::from)
    }
}

/// Where one connection is in its exchange.
struct Conn {
    stream: TcpStream,
    /// Request bytes written so far.
    sent: usize,
    /// Echo: reply bytes received so far. HTTP: the reply so far.
    got: usize,
    buf: Vec<u8>,
    /// Registered for `EPOLLOUT` too (a write would block).
    want_out: bool,
    started: Instant,
}

/// The clocks and counters at one edge of the measured window.
struct Snapshot {
    at: Instant,
    process: Duration,
    thread: Duration,
    switches: u64,
    io: Option<IoCounters>,
}

const MAX_EVENTS: usize = 512;
/// How long the load waits, after the window, for replies still owed.
const DRAIN_LIMIT: Duration = Duration::from_millis(500);
const SCRATCH: usize = 64 * 1024;

/// Runs one load to the end and closes every connection; an error if the
/// server failed a reply, or finished none in the measured window.
pub fn run(load: &Load<'_>) -> io::Result<Outcome> {
    if load.conns == 0 || load.request.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a load needs connections and a request",
        ));
    }
    let own_tid = current_tid();
    // SAFETY: plain syscall; the descriptor is owned at once.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `ep` is a fresh descriptor nobody else owns.
    let ep = unsafe { OwnedFd::from_raw_fd(ep) };
    let mut conns = Vec::with_capacity(load.conns);
    for i in 0..load.conns {
        let stream = TcpStream::connect(load.addr)?;
        stream.set_nodelay(true)?;
        // Close with a reset rather than a FIN: a full run opens tens of thousands
        // of connections, and TIME_WAIT on this side would use up the ephemeral
        // ports before the next group (wrk) connects.
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
        stream.set_nonblocking(true)?;
        ctl(
            ep.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            stream.as_raw_fd(),
            libc::EPOLLIN as u32,
            i,
        )?;
        conns.push(Conn {
            stream,
            sent: 0,
            got: 0,
            buf: Vec::new(),
            want_out: false,
            started: Instant::now(),
        });
    }

    let begin = Instant::now();
    let warm_end = begin + load.warmup;
    let end = warm_end + load.measure;
    let snapshot = || Snapshot {
        at: Instant::now(),
        process: process_cpu(),
        thread: thread_cpu(),
        switches: context_switches_except(own_tid),
        io: load.server_io.map(|read| read()),
    };
    // The clocks and counters when the measured window began, and ended.
    let mut measuring: Option<Snapshot> = None;
    let mut stopped: Option<Snapshot> = None;
    let mut exchanges = 0u64;
    // Exchanges sent and not yet answered: after the window, the load waits
    // for these (up to DRAIN_LIMIT) so that no connection closes on a server
    // still writing to it.
    let mut in_flight = 0usize;
    let mut latencies: Vec<u32> = Vec::new();
    let mut scratch = vec![0u8; SCRATCH];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];

    for (i, c) in conns.iter_mut().enumerate() {
        c.started = Instant::now();
        send(ep.as_raw_fd(), i, c, load.request)?;
        in_flight += 1;
    }
    loop {
        let now = Instant::now();
        if now >= end {
            if stopped.is_none() {
                stopped = Some(snapshot());
            }
            if in_flight == 0 || now >= end + DRAIN_LIMIT {
                break;
            }
        }
        if measuring.is_none() && now >= warm_end && now < end {
            measuring = Some(snapshot());
        }
        let until = match (&measuring, &stopped) {
            (_, Some(_)) => end + DRAIN_LIMIT,
            (Some(_), None) => end,
            (None, None) => warm_end,
        };
        let timeout_ms = (until.saturating_duration_since(now))
            .as_millis()
            .clamp(1, 1_000) as i32;
        // SAFETY: `events` has room for MAX_EVENTS entries.
        let n = unsafe {
            libc::epoll_wait(
                ep.as_raw_fd(),
                events.as_mut_ptr(),
                MAX_EVENTS as i32,
                timeout_ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in &events[..n as usize] {
            let (flags, i) = (ev.events, ev.u64 as usize);
            let c = &mut conns[i];
            if flags & libc::EPOLLOUT as u32 != 0 && c.sent < load.request.len() {
                send(ep.as_raw_fd(), i, c, load.request)?;
            }
            if flags & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 == 0 {
                continue;
            }
            if !receive(c, load, &mut scratch)? {
                continue;
            }
            in_flight -= 1;
            let done = Instant::now();
            if measuring.as_ref().is_some_and(|m| done >= m.at) && done < end {
                exchanges += 1;
                let nanos = (done - c.started).as_nanos();
                latencies.push(u32::try_from(nanos).unwrap_or(u32::MAX));
            }
            if done < end {
                c.started = done;
                send(ep.as_raw_fd(), i, c, load.request)?;
                in_flight += 1;
            }
        }
    }
    drop(conns);
    let (Some(start), Some(stop)) = (measuring, stopped) else {
        return Err(io::Error::other("the measured window never began"));
    };
    let window = stop.at.min(end).saturating_duration_since(start.at);
    let client_cpu = stop.thread.saturating_sub(start.thread);
    let others_cpu = stop
        .process
        .saturating_sub(start.process)
        .saturating_sub(client_cpu);
    if exchanges == 0 {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no round trip finished in the measured window",
        ));
    }
    latencies.sort_unstable();
    Ok(Outcome {
        exchanges,
        window,
        latencies,
        client_cpu,
        others_cpu,
        others_switches: stop.switches.saturating_sub(start.switches),
        server_io: stop.io.zip(start.io).map(|(end, start)| end - start),
    })
}

/// The calling thread's kernel id.
pub fn current_tid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Voluntary plus involuntary context switches so far, summed over every thread
/// of this process but `except`, from `/proc/self/task/*/status`. A thread that
/// exits takes its count with it, so callers subtract with saturation.
pub fn context_switches_except(except: libc::pid_t) -> u64 {
    switches_of_tasks(std::path::Path::new("/proc/self/task"), except)
}

/// [`context_switches_except`] over a `task` directory given by its path.
fn switches_of_tasks(dir: &std::path::Path, except: libc::pid_t) -> u64 {
    let Ok(tasks) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for task in tasks.flatten() {
        if task.file_name().to_str() == Some(except.to_string().as_str()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += switches_in_status(&status);
    }
    total
}

/// The two context-switch counters of one `/proc/.../status` text, added up.
fn switches_in_status(status: &str) -> u64 {
    status
        .lines()
        .filter(|l| {
            l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt_switches")
        })
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; these clocks always exist on Linux.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used so far by every thread of this process.
pub fn process_cpu() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time used so far by the calling thread.
pub fn thread_cpu() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn ctl(ep: RawFd, op: i32, fd: RawFd, events: u32, token: usize) -> io::Result<()> {
    let mut ev = libc::epoll_event {
        events,
        u64: token as u64,
    };
    // SAFETY: both descriptors are open; `ev` lives across the call.
    if unsafe { libc::epoll_ctl(ep, op, fd, &mut ev) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes as much of the request as the socket takes; starts a new exchange
/// when the previous one is complete. Asks for `EPOLLOUT` only while a write
/// would block.
fn send(ep: RawFd, i: usize, c: &mut Conn, request: &[u8]) -> io::Result<()> {
    if c.sent == request.len() {
        c.sent = 0;
        c.got = 0;
        c.buf.clear();
    }
    while c.sent < request.len() {
        let rest = &request[c.sent..];
        // SAFETY: `rest` is valid for its length.
        let n = unsafe { libc::write(c.stream.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => break,
                _ => return Err(e),
            }
        }
        c.sent += n as usize;
    }
    let want_out = c.sent < request.len();
    if want_out != c.want_out {
        let events = if want_out {
            (libc::EPOLLIN | libc::EPOLLOUT) as u32
        } else {
            libc::EPOLLIN as u32
        };
        ctl(ep, libc::EPOLL_CTL_MOD, c.stream.as_raw_fd(), events, i)?;
        c.want_out = want_out;
    }
    Ok(())
}

/// One read; `Ok(true)` when the reply is now complete.
fn receive(c: &mut Conn, load: &Load<'_>, scratch: &mut [u8]) -> io::Result<bool> {
    let want = match load.reply {
        // Never read past the echo: nothing else may be in flight.
        Reply::Echo => load.request.len() - c.got,
        Reply::Http => scratch.len(),
    };
    if want == 0 {
        return Err(io::Error::other(
            "reply arrived before its request was sent",
        ));
    }
    // SAFETY: `scratch` is valid for `want <= scratch.len()` bytes.
    let n = unsafe {
        libc::read(
            c.stream.as_raw_fd(),
            scratch.as_mut_ptr().cast(),
            want.min(scratch.len()),
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(false),
            _ => Err(e),
        };
    }
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed a connection mid-run",
        ));
    }
    let data = &scratch[..n as usize];
    match load.reply {
        Reply::Echo => {
            if data != &load.request[c.got..c.got + data.len()] {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the echo differs from what was sent",
                ));
            }
            c.got += data.len();
            Ok(c.got == load.request.len())
        }
        Reply::Http => {
            c.buf.extend_from_slice(data);
            match http_reply_len(&c.buf)? {
                Some(len) if len == c.buf.len() => Ok(true),
                Some(_) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "bytes past the end of an HTTP reply (nothing was pipelined)",
                )),
                None => Ok(false),
            }
        }
    }
}

/// The length of the complete HTTP/1.1 reply at the start of `buf`, `None`
/// while more is needed; an error for anything but `200` with a
/// `Content-Length` body.
pub fn http_reply_len(buf: &[u8]) -> io::Result<Option<usize>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("reply head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let mut parts = status.split(' ');
    let (version, code) = (parts.next(), parts.next());
    if !matches!(version, Some("HTTP/1.1" | "HTTP/1.0")) {
        return Err(bad(&format!("not an HTTP reply: `{status}`")));
    }
    if code != Some("200") {
        return Err(bad(&format!("status is not 200: `{status}`")));
    }
    let mut body = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(&format!("malformed header `{line}`")));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            body = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| bad("bad Content-Length"))?,
            );
        } else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
            return Err(bad("chunked replies are not expected"));
        }
    }
    let body = body.ok_or_else(|| bad("reply without Content-Length"))?;
    let len = head_end + 4 + body;
    Ok((buf.len() >= len).then_some(len))
}

/// A keep-alive `GET /` for the HTTP group's own client.
pub fn http_request(addr: SocketAddr) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;

    /// A blocking thread-per-connection server for the client's own tests.
    fn serve(conns: usize, reply: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reply = std::sync::Arc::new(reply);
        thread::spawn(move || {
            for _ in 0..conns {
                let (mut s, _) = listener.accept().unwrap();
                let reply = reply.clone();
                thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if s.write_all(&reply(&buf[..n])).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    fn load(addr: SocketAddr, conns: usize, request: &[u8], reply: Reply) -> Load<'_> {
        Load {
            addr,
            conns,
            request,
            reply,
            warmup: Duration::from_millis(20),
            measure: Duration::from_millis(100),
            server_io: None,
        }
    }

    #[test]
    fn echo_round_trips_are_counted() {
        let addr = serve(4, |b| b.to_vec());
        let msg: Vec<u8> = (0..1024).map(|i| i as u8).collect();
        let out = run(&load(addr, 4, &msg, Reply::Echo)).unwrap();
        assert!(out.exchanges > 0);
        assert_eq!(out.latencies.len() as u64, out.exchanges);
        assert!(out.latencies.windows(2).all(|w| w[0] <= w[1]));
        assert!(out.rate() > 0.0);
        assert!(out.latency(50.0) <= out.latency(99.0));
        // The echo threads are in this process too.
        assert!(out.client_busy() > 0.0 && out.client_busy() < 1.5);
        assert!(out.others_cpu_per_exchange() >= 0.0);
        assert!(out.others_switches_per_exchange() >= 0.0);
    }

    #[test]
    fn the_load_ends_without_cutting_a_reply_off() {
        // Counts the server's failed writes: the load waits for every reply it
        // is owed before it closes (with a reset), so there must be none.
        let failed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let conns = 16;
        let mut threads = Vec::new();
        let counted = failed.clone();
        let acceptor = thread::spawn(move || {
            for _ in 0..conns {
                let (mut s, _) = listener.accept().unwrap();
                let failed = counted.clone();
                threads.push(thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = s.read(&mut buf) {
                        if s.write_all(&buf[..n]).is_err() {
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return;
                        }
                    }
                }));
            }
            threads
        });
        let msg = vec![7u8; 1024];
        let out = run(&load(addr, conns, &msg, Reply::Echo)).unwrap();
        assert!(out.exchanges > 0);
        assert!(out.server_io.is_none());
        assert!(out.server_io_per_exchange().iter().all(|v| v.is_nan()));
        for t in acceptor.join().unwrap() {
            t.join().unwrap();
        }
        assert_eq!(failed.load(std::sync::atomic::Ordering::Relaxed), 0);
    }

    #[test]
    fn server_counters_span_the_window() {
        // A counter that grows by one at every read: both edges of the window
        // read it, so the difference is at least one and per exchange small.
        let reads = std::cell::Cell::new(0u64);
        let counters = || {
            reads.set(reads.get() + 1);
            let mut io = IoCounters::default();
            io.kernel_calls = reads.get() * 10;
            io
        };
        let addr = serve(1, |b| b.to_vec());
        let msg = b"ping".to_vec();
        let mut l = load(addr, 1, &msg, Reply::Echo);
        l.server_io = Some(&counters);
        let out = run(&l).unwrap();
        assert_eq!(reads.get(), 2);
        assert_eq!(out.server_io.unwrap().kernel_calls, 10);
        let [enter, sqe, wake] = out.server_io_per_exchange();
        assert_eq!(enter, 10.0 / out.exchanges as f64);
        assert_eq!((sqe, wake), (0.0, 0.0));
    }

    #[test]
    fn a_wrong_echo_fails_the_run() {
        let addr = serve(1, |b| b.iter().map(|x| x ^ 1).collect());
        let err = run(&load(addr, 1, b"hello", Reply::Echo)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn http_replies_are_framed() {
        // Replies to each request once its head is complete; a request may
        // come in one read here, since the client writes it in one go.
        let addr = serve(2, |_| {
            b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\nHello, World!".to_vec()
        });
        let req = http_request(addr);
        let out = run(&load(addr, 2, &req, Reply::Http)).unwrap();
        assert!(out.exchanges > 0);
    }

    #[test]
    fn http_reply_parsing() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\ndate: x\r\n\r\nHello, World!";
        assert_eq!(http_reply_len(ok).unwrap(), Some(ok.len()));
        assert_eq!(http_reply_len(&ok[..ok.len() - 1]).unwrap(), None);
        assert_eq!(http_reply_len(b"HTTP/1.1 200 OK\r\nconte").unwrap(), None);
        let empty = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(http_reply_len(empty).unwrap(), Some(empty.len()));
        assert!(http_reply_len(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_err());
        assert!(http_reply_len(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(http_reply_len(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert!(http_reply_len(b"SSH-2.0\r\n\r\n").is_err());
    }

    #[test]
    fn context_switches_are_read_from_status_and_exclude_a_thread() {
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t5\n";
        assert_eq!(switches_in_status(status), 12);
        assert_eq!(switches_in_status("garbage"), 0);
        // A made-up task directory: the excluded thread's counts are left out.
        let dir = std::env::temp_dir().join(format!("zokio-bench-tasks-{}", std::process::id()));
        for (tid, v, n) in [(100, 1, 2), (200, 30, 40)] {
            std::fs::create_dir_all(dir.join(tid.to_string())).unwrap();
            std::fs::write(
                dir.join(tid.to_string()).join("status"),
                format!("voluntary_ctxt_switches:\t{v}\nnonvoluntary_ctxt_switches:\t{n}\n"),
            )
            .unwrap();
        }
        assert_eq!(switches_of_tasks(&dir, 0), 73);
        assert_eq!(switches_of_tasks(&dir, 100), 70);
        std::fs::remove_dir_all(&dir).unwrap();
        // This thread's own: each sleep is a voluntary switch. (Not the whole
        // process's sum, which drops when another test's thread exits meanwhile.)
        let own =
            || switches_in_status(&std::fs::read_to_string("/proc/thread-self/status").unwrap());
        let before = own();
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(own() >= before + 5);
        // And the process-wide reader sees at least this thread's.
        assert!(context_switches_except(0) >= own());
    }
}
