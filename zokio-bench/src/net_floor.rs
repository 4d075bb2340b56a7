//! The floor of the network groups: a server with no async runtime at all,
//! one thread driving a raw io_uring ring by hand, serving the same echo and
//! HTTP workloads as the runtime servers. What it costs is what the kernel
//! alone costs, so the runtimes' numbers read against it.
//!
//! It must stay the plainest correct loop: queue every new entry, one
//! `submit_and_wait(1)`, reap every completion there is, repeat. It must
//! never gain work the runtime servers are spared (copies, timers, extra
//! threads), nor tricks they cannot use (skipped completions, replies sent
//! before their request is complete), or the floor stops being one. Started
//! and stopped like the others, through a [`Server`] from `net_servers`.

use std::io;

#[cfg_attr(not(target_os = "linux"), allow(unused_imports))]
use crate::net_servers::{self, Server};

/// What the floor server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloorReply {
    /// Every byte received, sent straight back.
    Echo,
    /// hyper's hello world response, once per request.
    Http,
}

/// Starts the floor server on a loopback listener; the returned Server's
/// `stop()` (or drop) ends it.
#[cfg(target_os = "linux")]
pub fn start(reply: FloorReply) -> io::Result<Server> {
    imp::start(reply)
}

#[cfg(not(target_os = "linux"))]
pub fn start(_reply: FloorReply) -> io::Result<Server> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the floor server needs io_uring, which is Linux-only",
    ))
}

/// hyper's hello world reply in shape and length. The date is fixed (a real
/// one, which hyper refreshes every second, has the same 29 bytes), so every
/// reply is the same bytes.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\
    date: Thu, 03 Dec 2026 00:00:00 GMT\r\n\r\nHello, World!";

/// Appends one [`RESPONSE`] to `out` per complete request at the front of
/// `buf`; returns how many bytes those requests took. Requests are bodyless
/// GETs, so a request ends at its blank line.
fn answer(buf: &[u8], out: &mut Vec<u8>) -> usize {
    let mut used = 0;
    while let Some(end) = buf[used..].windows(4).position(|w| w == b"\r\n\r\n") {
        used += end + 4;
        out.extend_from_slice(RESPONSE);
    }
    used
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::sync::{mpsc, Arc};
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    use io_uring::{opcode, squeue, types, IoUring};

    use super::{answer, net_servers, FloorReply, Server};

    /// Each connection's receive buffer.
    const BUF: usize = 4096;

    // The low byte of an entry's user_data says what it is; the rest, for
    // connection ops, is the connection's slot.
    const ACCEPT: u64 = 0;
    const STOP: u64 = 1;
    const RECV: u64 = 2;
    const SEND: u64 = 3;

    pub fn start(reply: FloorReply) -> io::Result<Server> {
        let listener = net_servers::listener(0, false)?;
        // The ring parks an accept on a blocking socket itself; on a
        // non-blocking one some kernels hand EAGAIN back instead.
        listener.set_nonblocking(false)?;
        let addr = listener.local_addr()?;
        // The stop signal: `stop` writes it, the loop polls it.
        // SAFETY: eventfd takes no pointers.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a non-negative eventfd result is a new fd nothing else owns.
        let stop_fd = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let (tx, rx) = mpsc::channel();
        let theirs = stop_fd.clone();
        let thread = thread::Builder::new()
            .name("floor-net".into())
            .spawn(move || serve(listener, theirs.as_raw_fd(), reply, tx))?;
        if let Err(e) = net_servers::started(rx, "the floor server") {
            let _ = stop(&stop_fd, thread);
            return Err(e);
        }
        let driver = "io_uring (no runtime, 1 thread)".to_string();
        Ok(Server::new(addr, driver, move || stop(&stop_fd, thread)))
    }

    /// Wakes the loop through its eventfd and joins it, giving up (and
    /// leaving the thread) after `STOP_LIMIT` rather than hang the bench.
    fn stop(stop_fd: &OwnedFd, thread: JoinHandle<io::Result<()>>) -> io::Result<()> {
        let one = 1u64;
        // SAFETY: writes the 8 bytes of a live u64 to an open eventfd.
        let n = unsafe { libc::write(stop_fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        if n != 8 {
            return Err(io::Error::last_os_error());
        }
        let deadline = Instant::now() + net_servers::STOP_LIMIT;
        while !thread.is_finished() {
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "the floor server still running {:?} after stop",
                    net_servers::STOP_LIMIT
                )));
            }
            thread::sleep(Duration::from_millis(1));
        }
        thread
            .join()
            .map_err(|_| io::Error::other("the floor server thread panicked"))?
    }

    /// A ring of 4096 entries, else 256, with the cheapest flags the kernel
    /// accepts (the raw ring of `nop_rate`, so the same kernel mode).
    fn ring() -> io::Result<IoUring> {
        crate::io_workloads::raw::ring_of(4096).or_else(|_| crate::io_workloads::raw::ring_of(256))
    }

    /// The server thread: sets the ring up, reports, runs until stopped.
    fn serve(
        listener: TcpListener,
        stop_fd: RawFd,
        reply: FloorReply,
        tx: mpsc::Sender<io::Result<()>>,
    ) -> io::Result<()> {
        let ring = match ring() {
            Ok(ring) => ring,
            Err(e) => {
                let why =
                    format!("the floor server needs io_uring, which could not be set up: {e}");
                let _ = tx.send(Err(io::Error::new(e.kind(), why)));
                return Ok(());
            }
        };
        let mut floor = Floor {
            ring,
            reply,
            listener: listener.as_raw_fd(),
            conns: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            stopping: false,
            cqes: Vec::new(),
        };
        // SAFETY: neither entry points at memory; the listener is a local
        // of this function and the eventfd is held open by the Arc that
        // `start` moved into this thread, both outliving `floor`'s ring.
        let armed = unsafe {
            floor
                .push(accept(floor.listener))
                .and_then(|()| floor.push(poll_stop(stop_fd)))
        };
        let result = match armed {
            Ok(()) => {
                let _ = tx.send(Ok(()));
                floor.run()
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                Ok(())
            }
        };
        if floor.in_flight > 0 {
            // `run` failed with ops still in the kernel, which may yet write
            // into their buffers, even after the ring is dropped: leak the
            // buffers (and their sockets) rather than free them under it.
            std::mem::forget(std::mem::take(&mut floor.conns));
        }
        result
    }

    fn accept(listener: RawFd) -> squeue::Entry {
        let (addr, len) = (std::ptr::null_mut(), std::ptr::null_mut());
        opcode::Accept::new(types::Fd(listener), addr, len)
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(ACCEPT)
    }

    fn poll_stop(stop_fd: RawFd) -> squeue::Entry {
        opcode::PollAdd::new(types::Fd(stop_fd), libc::POLLIN as u32)
            .build()
            .user_data(STOP)
    }

    /// The op a connection waits on next.
    enum Op {
        Recv,
        Send,
    }

    struct Conn {
        stream: TcpStream,
        /// Received bytes: Echo sends them back from here, Http keeps a
        /// partial request at the front. Boxed, so the slab growing never
        /// moves it under the kernel.
        buf: Box<[u8]>,
        /// Bytes of `buf` in use.
        filled: usize,
        /// Http's replies waiting to go out (a Vec's heap block does not
        /// move with the Vec either).
        out: Vec<u8>,
        /// Bytes of the pending reply already sent.
        sent: usize,
        /// Ops of this connection in the kernel; its slot (and its buffers)
        /// is freed only at 0.
        in_flight: u32,
        /// Set by `close`: the slot is freed when its last op comes back.
        closing: bool,
    }

    impl Conn {
        /// The reply being sent: the echoed bytes or the queued responses.
        fn reply(&self, reply: FloorReply) -> &[u8] {
            match reply {
                FloorReply::Echo => &self.buf[..self.filled],
                FloorReply::Http => &self.out,
            }
        }

        /// After `n` bytes came in: what to do next, `None` to close.
        fn received(&mut self, n: usize, reply: FloorReply) -> Option<Op> {
            self.filled += n;
            if reply == FloorReply::Echo {
                return Some(Op::Send);
            }
            let used = answer(&self.buf[..self.filled], &mut self.out);
            // What is left is the start of a request yet to come in full.
            self.buf.copy_within(used..self.filled, 0);
            self.filled -= used;
            if !self.out.is_empty() {
                Some(Op::Send)
            } else if self.filled == self.buf.len() {
                None // a header over 4 KiB: no client of these benches sends one
            } else {
                Some(Op::Recv)
            }
        }

        /// After `n` bytes went out: the rest of the reply, or the next recv.
        fn sent_some(&mut self, n: usize, reply: FloorReply) -> Op {
            self.sent += n;
            if self.sent < self.reply(reply).len() {
                return Op::Send; // a short send: the rest goes next
            }
            self.sent = 0;
            match reply {
                FloorReply::Echo => self.filled = 0,
                FloorReply::Http => self.out.clear(),
            }
            Op::Recv
        }
    }

    struct Floor {
        /// The first field, so dropped first: the ring is gone (and no op of
        /// it in flight, `run` ends only when none is) before the buffers in
        /// `conns` that its ops point into are freed.
        ring: IoUring,
        reply: FloorReply,
        listener: RawFd,
        /// The connection slab; `free` holds its empty slots.
        conns: Vec<Option<Conn>>,
        free: Vec<usize>,
        /// Entries pushed whose completions are not yet reaped.
        in_flight: usize,
        /// Set when the eventfd fires: no new ops, every socket shut down.
        stopping: bool,
        /// One batch of reaped completions (kept to reuse its allocation).
        cqes: Vec<(u64, i32)>,
    }

    impl Floor {
        /// Queues `sqe`, submitting first if the queue is full.
        ///
        /// # Safety
        /// Every buffer and fd `sqe` names must stay valid until its
        /// completion is reaped.
        unsafe fn push(&mut self, sqe: squeue::Entry) -> io::Result<()> {
            // SAFETY: the caller's promise.
            while unsafe { self.ring.submission().push(&sqe) }.is_err() {
                self.ring.submit()?;
            }
            self.in_flight += 1;
            Ok(())
        }

        /// The loop: submit and wait, reap a batch, handle it; after a stop,
        /// until every op has come back, so nothing is left in the kernel.
        fn run(&mut self) -> io::Result<()> {
            while !self.stopping || self.in_flight > 0 {
                match self.ring.submit_and_wait(1) {
                    Ok(_) => {}
                    // A signal, or completions to reap before more submits.
                    Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
                    Err(e) => return Err(e),
                }
                let mut cqes = std::mem::take(&mut self.cqes);
                cqes.extend(self.ring.completion().map(|c| (c.user_data(), c.result())));
                for &(data, res) in &cqes {
                    self.complete(data, res)?;
                }
                cqes.clear();
                self.cqes = cqes;
            }
            Ok(())
        }

        fn complete(&mut self, data: u64, res: i32) -> io::Result<()> {
            self.in_flight -= 1;
            let (slot, kind) = ((data >> 8) as usize, data & 0xff);
            match kind {
                ACCEPT => {
                    if res >= 0 {
                        // SAFETY: an accept's result is a new fd nothing else owns.
                        let fd = unsafe { OwnedFd::from_raw_fd(res) };
                        if !self.stopping {
                            self.open(TcpStream::from(fd))?;
                        }
                    }
                    // Errors (EMFILE, a reset in the backlog) are skipped.
                    if !self.stopping {
                        // SAFETY: no memory; the listener outlives the ring (`serve`).
                        unsafe { self.push(accept(self.listener))? };
                    }
                }
                STOP => self.begin_stop(),
                _ => {
                    let reply = self.reply;
                    let c = self.conns[slot].as_mut().expect("an op of a freed slot");
                    c.in_flight -= 1;
                    let next = match (res, kind) {
                        _ if res <= 0 || c.closing || self.stopping => None,
                        (n, RECV) => c.received(n as usize, reply),
                        (n, _) => Some(c.sent_some(n as usize, reply)),
                    };
                    match next {
                        Some(op) => self.arm(slot, op)?,
                        None => self.close(slot),
                    }
                }
            }
            Ok(())
        }

        fn open(&mut self, stream: TcpStream) -> io::Result<()> {
            // As the runtime servers do; a failure only costs latency.
            let _ = stream.set_nodelay(true);
            let conn = Conn {
                stream,
                buf: vec![0; BUF].into_boxed_slice(),
                filled: 0,
                out: Vec::new(),
                sent: 0,
                in_flight: 0,
                closing: false,
            };
            let slot = match self.free.pop() {
                Some(slot) => slot,
                None => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
            };
            self.conns[slot] = Some(conn);
            self.arm(slot, Op::Recv)
        }

        /// Queues connection `slot`'s next op.
        fn arm(&mut self, slot: usize, op: Op) -> io::Result<()> {
            let reply = self.reply;
            let c = self.conns[slot].as_mut().expect("arming a freed slot");
            let fd = types::Fd(c.stream.as_raw_fd());
            let sqe = match op {
                Op::Recv => {
                    let spare = &mut c.buf[c.filled..];
                    opcode::Recv::new(fd, spare.as_mut_ptr(), spare.len() as u32)
                        .build()
                        .user_data((slot as u64) << 8 | RECV)
                }
                Op::Send => {
                    let rest = &c.reply(reply)[c.sent..];
                    opcode::Send::new(fd, rest.as_ptr(), rest.len() as u32)
                        .flags(libc::MSG_NOSIGNAL)
                        .build()
                        .user_data((slot as u64) << 8 | SEND)
                }
            };
            c.in_flight += 1;
            // SAFETY: the entry points into `c.buf` or `c.out`: heap blocks
            // the slab growing does not move, that nothing touches while the
            // op is in flight (a connection runs one op at a time), that are
            // freed, with the socket, only once `c.in_flight` is back to 0
            // (`close`), and that outlive the ring (`Floor`'s field order,
            // and `serve`'s leak when ops are left in flight).
            unsafe { self.push(sqe) }
        }

        /// Closes connection `slot` once none of its ops is in flight.
        fn close(&mut self, slot: usize) {
            let c = self.conns[slot].as_mut().expect("closing a freed slot");
            c.closing = true;
            if c.in_flight == 0 {
                self.conns[slot] = None; // closes the socket
                self.free.push(slot);
            }
        }

        /// Stops accepting and shuts every socket down: each op in flight
        /// then completes at once (recv with 0, send and accept with an
        /// error) and `run` returns when the last has been reaped.
        fn begin_stop(&mut self) {
            self.stopping = true;
            let fds = self.conns.iter().flatten().map(|c| c.stream.as_raw_fd());
            for fd in fds.chain([self.listener]) {
                // SAFETY: takes no pointers; every fd here is open and ours.
                unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::thread;
    use std::time::Duration;

    /// Kernels or sandboxes without io_uring make these tests no-ops.
    fn floor(reply: FloorReply) -> Option<Server> {
        if io_uring::IoUring::new(8).is_err() {
            eprintln!("no io_uring here: skipped");
            return None;
        }
        Some(start(reply).expect("floor server starts"))
    }

    fn connect(server: &Server) -> TcpStream {
        let s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    #[test]
    fn echo_sends_back_every_byte() {
        let Some(server) = floor(FloorReply::Echo) else {
            return;
        };
        assert!(server.driver.contains("io_uring"));
        let mut streams: Vec<TcpStream> = (0..3).map(|_| connect(&server)).collect();
        let big: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
        let messages: [&[u8]; 3] = [b"x", &big[..1000], &big];
        for (i, s) in streams.iter_mut().enumerate() {
            for msg in messages.iter().cycle().skip(i).take(3) {
                // In pieces, each read back before the next goes out, so
                // neither side's socket buffers can fill up.
                for piece in msg.chunks(10 * 1024) {
                    s.write_all(piece).unwrap();
                    let mut back = vec![0; piece.len()];
                    s.read_exact(&mut back).unwrap();
                    assert_eq!(back, piece);
                }
            }
        }
        // Stopped with the connections still open.
        server.stop().unwrap();
    }

    #[test]
    fn http_answers_pipelined_and_split_requests() {
        let Some(server) = floor(FloorReply::Http) else {
            return;
        };
        let req: &[u8] = b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n";
        let mut s = connect(&server);
        s.write_all(&[req, req].concat()).unwrap();
        // The third request is cut inside its final "\r\n\r\n".
        let (head, tail) = req.split_at(req.len() - 3);
        s.write_all(head).unwrap();
        thread::sleep(Duration::from_millis(5));
        s.write_all(tail).unwrap();
        let mut back = vec![0; 3 * RESPONSE.len()];
        s.read_exact(&mut back).unwrap();
        assert_eq!(back, RESPONSE.repeat(3));
        server.stop().unwrap();
    }

    #[test]
    fn stops_without_any_connection() {
        let Some(server) = floor(FloorReply::Echo) else {
            return;
        };
        server.stop().unwrap();
    }

    #[test]
    fn answer_finds_requests_however_they_are_cut() {
        let stream = b"GET / HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\nx: y\r\n\r\nGET";
        for cut in 0..stream.len() {
            // What the connection does: answer, keep the rest, add more.
            let mut out = Vec::new();
            let mut kept = stream[..cut].to_vec();
            kept.drain(..answer(&kept, &mut out));
            kept.extend_from_slice(&stream[cut..]);
            kept.drain(..answer(&kept, &mut out));
            assert_eq!(out, RESPONSE.repeat(2), "cut at {cut}");
            assert_eq!(kept, b"GET");
        }
    }
}
