//! `Tail`: an owned buffer seen from an offset on, so that "write all" and "read
//! exact" can hand the rest of a buffer to the next operation without copying it,
//! and `until_done`, the loop those share. Must never let the kernel see the bytes
//! before the offset.

use std::future::Future;
use std::io;

use super::{BufResult, IoBuf, IoBufMut};

/// Run `step` on what is left of `buf` until `total` bytes are done, each step
/// reporting how many it did. A step that does nothing ends the loop with an
/// error of kind `ended` whose `message` says how far it got.
pub(crate) async fn until_done<B, F, Fut>(
    buf: B,
    total: usize,
    ended: io::ErrorKind,
    message: fn(usize, usize) -> String,
    mut step: F,
) -> BufResult<(), B>
where
    F: FnMut(Tail<B>, usize) -> Fut,
    Fut: Future<Output = BufResult<usize, Tail<B>>>,
{
    let mut done = 0;
    let mut tail = Tail::new(buf, 0);
    while done < total {
        let (result, back) = step(tail, done).await;
        let buf = back.into_inner();
        match result {
            Ok(0) => return (Err(io::Error::new(ended, message(done, total))), buf),
            Ok(n) => done += n,
            Err(e) => return (Err(e), buf),
        }
        tail = Tail::new(buf, done);
    }
    (Ok(()), tail.into_inner())
}

/// `buf` from byte `start` on: for writes its initialised bytes after `start`, for
/// reads its room after `start`.
pub(crate) struct Tail<B> {
    buf: B,
    start: usize,
}

impl<B> Tail<B> {
    pub(crate) fn new(buf: B, start: usize) -> Tail<B> {
        Tail { buf, start }
    }

    pub(crate) fn into_inner(self) -> B {
        self.buf
    }
}

// SAFETY: the pointer is the inner buffer's stable pointer moved by `start`, which
// stays within it (callers keep `start <= bytes_init` for writes, `<= bytes_total`
// for reads), and moves with the inner buffer no more than it does.
unsafe impl<B: IoBuf> IoBuf for Tail<B> {
    fn stable_ptr(&self) -> *const u8 {
        self.buf.stable_ptr().wrapping_add(self.start)
    }
    fn bytes_init(&self) -> usize {
        self.buf.bytes_init().saturating_sub(self.start)
    }
    fn bytes_total(&self) -> usize {
        self.buf.bytes_total().saturating_sub(self.start)
    }
}

// SAFETY: as above; the room after `start` is valid for writes because the inner
// buffer's whole room is.
unsafe impl<B: IoBufMut> IoBufMut for Tail<B> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.buf.stable_mut_ptr().wrapping_add(self.start)
    }
    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: the first `start` bytes were filled by earlier reads and the next
        // `len` by this one (the caller's contract).
        unsafe { self.buf.set_init(self.start + len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miri_tail_sees_only_the_rest() {
        let tail = Tail::new(b"hello".to_vec(), 2);
        assert_eq!(tail.bytes_init(), 3);
        // SAFETY: the tail's bytes are the Vec's last three.
        let rest = unsafe { std::slice::from_raw_parts(tail.stable_ptr(), 3) };
        assert_eq!(rest, b"llo");
        let mut reading = Tail::new(Vec::with_capacity(8), 0);
        // SAFETY: nothing is claimed to be initialised.
        unsafe { reading.set_init(0) };
        assert_eq!(reading.into_inner().len(), 0);
    }
}
