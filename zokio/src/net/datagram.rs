//! The borrowed-buffer methods `UdpSocket` and `UnixDatagram` share, with tokio's
//! names and signatures: readiness (`ready`, `readable`, `poll_recv_ready`...),
//! `send`/`recv` in their async, poll and `try_` forms, the `recv_from` family, and
//! `try_io`/`async_io`. Each socket type passes the conversion of the kernel's
//! sender address into its own address type. Must never wait inside a `try_` or
//! `poll_` method.

/// For a type with an `io: IoSocket` field; `$Addr` is its address type and
/// `$from` turns a `socket2::SockAddr` into one (`fn(&SockAddr) ->
/// io::Result<$Addr>`).
macro_rules! datagram_methods {
    ($Addr:ty, $from:path) => {
        /// Wait until the socket is ready for `interest`, and say what it is ready
        /// for. It may answer without the socket really being ready (another
        /// receiver took the datagram, for one): the next `try_*` call then says
        /// `WouldBlock`, and the socket is waited for again. Any number of tasks
        /// may wait at once.
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            self.io.ready(interest).await
        }

        /// Wait until a receive would not block (see [`ready`](Self::ready)).
        pub async fn readable(&self) -> io::Result<()> {
            self.io.ready(Interest::READABLE).await.map(|_| ())
        }

        /// Wait until a send would not block (see [`ready`](Self::ready)).
        pub async fn writable(&self) -> io::Result<()> {
            self.io.ready(Interest::WRITABLE).await.map(|_| ())
        }

        /// Poll for receive readiness. Only the task of the latest call (or of
        /// another `poll_recv*`/`poll_peek*` call) is woken.
        pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.io
                .poll_ready(cx, Direction::Read)
                .map(|ready| ready.map(|_| ()))
        }

        /// Poll for send readiness. Only the task of the latest call (or of
        /// another `poll_send*` call) is woken.
        pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.io
                .poll_ready(cx, Direction::Write)
                .map(|ready| ready.map(|_| ()))
        }

        /// Send `buf` as one datagram to the connected peer.
        pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
            self.io
                .io(Interest::WRITABLE, || self.io.sys_send(buf))
                .await
        }

        /// Poll-based [`send`](Self::send).
        pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.io
                .poll_io(cx, Direction::Write, || self.io.sys_send(buf))
        }

        /// Send without waiting; `WouldBlock` if the socket has no room.
        pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
            self.io.write_now(buf)
        }

        /// Receive one datagram from the connected peer; the part that does not fit
        /// `buf` is dropped.
        pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.io
                .io(Interest::READABLE, || {
                    self.io.sys_recv(as_uninit(buf), Take::Consume)
                })
                .await
        }

        /// Poll-based [`recv`](Self::recv), into the unfilled part of `buf`.
        pub fn poll_recv(
            &self,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.io.poll_io(cx, Direction::Read, || {
                fill_read_buf(buf, |dst| Ok((self.io.sys_recv(dst, Take::Consume)?, ())))
            })
        }

        /// Receive one datagram without waiting; `WouldBlock` if none is there.
        pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
            let received = self.io.sys_recv(as_uninit(buf), Take::Consume);
            self.io.note(Interest::READABLE, received)
        }

        /// [`try_recv`](Self::try_recv) into the spare room of `buf`, advancing it.
        pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            fill_buf_mut(buf, |dst| {
                let received = self.io.sys_recv(dst, Take::Consume);
                let n = self.io.note(Interest::READABLE, received)?;
                Ok((n, n))
            })
        }

        /// [`recv`](Self::recv) into the spare room of `buf`, advancing it.
        pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            self.io
                .io(Interest::READABLE, || {
                    fill_buf_mut(buf, |dst| {
                        let n = self.io.sys_recv(dst, Take::Consume)?;
                        Ok((n, n))
                    })
                })
                .await
        }

        /// Receive one datagram and its sender's address.
        pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, $Addr)> {
            self.io
                .io(Interest::READABLE, || {
                    self.datagram_now(as_uninit(buf), Take::Consume)
                })
                .await
        }

        /// Poll-based [`recv_from`](Self::recv_from), into the unfilled part of
        /// `buf`.
        pub fn poll_recv_from(
            &self,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<$Addr>> {
            self.io.poll_io(cx, Direction::Read, || {
                fill_read_buf(buf, |dst| self.datagram_now(dst, Take::Consume))
            })
        }

        /// Receive one datagram and its sender without waiting.
        pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, $Addr)> {
            self.datagram_now(as_uninit(buf), Take::Consume)
        }

        /// [`try_recv_from`](Self::try_recv_from) into the spare room of `buf`,
        /// advancing it.
        pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, $Addr)> {
            fill_buf_mut(buf, |dst| {
                let (n, from) = self.datagram_now(dst, Take::Consume)?;
                Ok((n, (n, from)))
            })
        }

        /// [`recv_from`](Self::recv_from) into the spare room of `buf`, advancing
        /// it.
        pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, $Addr)> {
            self.io
                .io(Interest::READABLE, || {
                    fill_buf_mut(buf, |dst| {
                        let (n, from) = self.datagram_now(dst, Take::Consume)?;
                        Ok((n, (n, from)))
                    })
                })
                .await
        }

        /// One datagram (or a look at it) and its sender, without waiting.
        fn datagram_now(
            &self,
            dst: &mut [std::mem::MaybeUninit<u8>],
            take: Take,
        ) -> io::Result<(usize, $Addr)> {
            let (n, from) = self.io.recv_from_now(dst, take)?;
            Ok((n, $from(&from)?))
        }

        /// Run `f`, a non-blocking operation on the socket's descriptor, if the
        /// socket is thought ready for `interest`; else `WouldBlock` without calling
        /// it. `f` must answer `WouldBlock` only when its system call did, which
        /// marks the socket not ready until a wait says otherwise.
        pub fn try_io<R>(
            &self,
            interest: Interest,
            f: impl FnOnce() -> io::Result<R>,
        ) -> io::Result<R> {
            self.io.try_io(interest, f)
        }

        /// Wait for `interest`, then run `f` (as in [`try_io`](Self::try_io)),
        /// waiting again for as long as it answers `WouldBlock`.
        pub async fn async_io<R>(
            &self,
            interest: Interest,
            f: impl FnMut() -> io::Result<R>,
        ) -> io::Result<R> {
            self.io.async_io(interest, f).await
        }

        /// Take the pending socket error (`SO_ERROR`), if any: for a connected
        /// socket, an ICMP error a sent datagram caused, for one.
        pub fn take_error(&self) -> io::Result<Option<io::Error>> {
            self.io.sock().take_error()
        }
    };
}
