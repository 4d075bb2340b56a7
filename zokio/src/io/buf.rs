//! Owned buffers for completion-based I/O: `IoBuf` (bytes to write) and `IoBufMut`
//! (room to read into), for `Vec<u8>`, `Box<[u8]>` and `bytes::BytesMut`.
//!
//! io_uring reads into and writes from a buffer after the call that started the
//! operation has returned, possibly after the future was dropped. So operations take
//! the buffer by value and hand it back with the result, and the traits promise that
//! the memory does not move while the buffer value does. Nothing here may copy data.

/// A buffer the kernel may read from while the operation is in flight.
///
/// # Safety
/// `stable_ptr` must point at `bytes_init` initialised bytes that stay at the same
/// address when the buffer value is moved, and stay valid until it is dropped.
///
/// # Examples
///
/// Implemented for a type of one's own, so that one response held once can be sent
/// on many connections without a copy per send:
///
/// ```
/// use std::sync::Arc;
/// use zokio::io::IoBuf;
/// use zokio::net::{TcpListener, TcpStream};
///
/// struct Shared(Arc<[u8]>);
///
/// // SAFETY: the bytes live in the `Arc`'s allocation, which stays where it is when a
/// // `Shared` moves, and lives at least as long as this value holds its reference.
/// unsafe impl IoBuf for Shared {
///     fn stable_ptr(&self) -> *const u8 {
///         self.0.as_ptr()
///     }
///     fn bytes_init(&self) -> usize {
///         self.0.len()
///     }
///     fn bytes_total(&self) -> usize {
///         self.0.len()
///     }
/// }
///
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let body: Arc<[u8]> = Arc::from(&b"hello"[..]);
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let (server, _) = listener.accept().await.unwrap();
///
/// server.write_all_owned(Shared(body.clone())).await.0.unwrap();
/// let (read, got) = client.read_exact_owned(Vec::with_capacity(body.len())).await;
/// read.unwrap();
/// assert_eq!(&got[..], &body[..]);
/// # });
/// ```
pub unsafe trait IoBuf: Unpin + Send + 'static {
    /// Start of the memory; stable across moves of `self`.
    fn stable_ptr(&self) -> *const u8;
    /// How many bytes are initialised (what a write sends).
    fn bytes_init(&self) -> usize;
    /// How many bytes the memory holds in all (what a read may fill).
    fn bytes_total(&self) -> usize;
}

/// A buffer the kernel may write into while the operation is in flight.
///
/// # Safety
/// As for `IoBuf`, and `stable_mut_ptr` must be valid for writes of `bytes_total` bytes.
pub unsafe trait IoBufMut: IoBuf {
    /// Start of the memory, for writing; stable across moves of `self`.
    fn stable_mut_ptr(&mut self) -> *mut u8;
    /// Record that the first `len` bytes now hold data (after a read of `len` bytes).
    ///
    /// # Safety
    /// The first `len` bytes really are initialised, and `len <= bytes_total()`.
    unsafe fn set_init(&mut self, len: usize);
}

// SAFETY: a Vec's heap memory does not move when the Vec value moves; `len` bytes are
// initialised and `capacity` bytes are allocated.
unsafe impl IoBuf for Vec<u8> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: as above; `set_len` is within capacity by the caller's contract.
unsafe impl IoBufMut for Vec<u8> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, len: usize) {
        // A read replaces the contents, so the length becomes what was read; a larger
        // earlier length would expose stale bytes as if they had just been read.
        // SAFETY: caller's contract: `len` bytes are initialised and within capacity.
        unsafe { self.set_len(len) };
    }
}

// SAFETY: a boxed slice's memory does not move with the box and is fully initialised.
unsafe impl IoBuf for Box<[u8]> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: as above; every byte is always initialised, so `set_init` has nothing to do.
unsafe impl IoBufMut for Box<[u8]> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, _len: usize) {}
}

// SAFETY: a `BytesMut`'s memory does not move with the value; `len` bytes are
// initialised and `capacity` bytes are allocated.
unsafe impl IoBuf for bytes::BytesMut {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: as above; `set_len` is within capacity by the caller's contract.
unsafe impl IoBufMut for bytes::BytesMut {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: caller's contract, as for `Vec`.
        unsafe { self.set_len(len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_reports_len_and_capacity() {
        let mut v = Vec::with_capacity(16);
        v.extend_from_slice(b"abc");
        assert_eq!(v.bytes_init(), 3);
        assert!(v.bytes_total() >= 16);
        let ptr = v.stable_ptr();
        let moved = v;
        assert_eq!(
            moved.stable_ptr(),
            ptr,
            "moving the Vec must not move its bytes"
        );
    }

    #[test]
    fn set_init_replaces_length() {
        let mut v = vec![9u8; 8];
        // SAFETY: 2 <= 8 and every byte is initialised.
        unsafe { v.set_init(2) };
        assert_eq!(v, [9, 9]);
        let mut b = bytes::BytesMut::with_capacity(8);
        b.extend_from_slice(b"xyz");
        // SAFETY: 3 bytes are initialised.
        unsafe { b.set_init(3) };
        assert_eq!(&b[..], b"xyz");
    }
}
