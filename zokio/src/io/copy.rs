//! `copy`, `copy_buf`, `copy_bidirectional` and `copy_bidirectional_with_sizes`:
//! tokio's functions, run under Zokio's cooperative budget (see
//! `cooperative.rs`). The copying itself is tokio's; this file must not copy bytes.

use std::io;

use super::cooperative::cooperative;
use super::{AsyncBufRead, AsyncRead, AsyncWrite};

/// Copy everything `reader` gives, until its end, into `writer`, then flush
/// `writer`; returns how many bytes were copied. As `tokio::io::copy` (an 8 KiB
/// buffer; see [`copy_buf`] to choose it), and each poll spends one unit of the
/// task's cooperative budget, so a copy between always-ready ends still lets the
/// other tasks of its worker run.
///
/// # Errors
/// The first error of `reader` or `writer` (reads interrupted by a signal are
/// retried), or `WriteZero` when `writer` accepts no bytes.
pub async fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    cooperative(tokio::io::copy(reader, writer)).await
}

/// [`copy`] from a buffered reader, through the reader's own buffer, as
/// `tokio::io::copy_buf`.
///
/// # Errors
/// As [`copy`].
pub async fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    cooperative(tokio::io::copy_buf(reader, writer)).await
}

/// Copy from `a` to `b` and from `b` to `a` at the same time, until both reach
/// their end; each side is shut down for writing once the other reached its end.
/// Returns the bytes copied `(a to b, b to a)`. As `tokio::io::copy_bidirectional`,
/// under Zokio's budget.
///
/// # Examples
///
/// The heart of a TCP proxy: one task per accepted connection, joined to the
/// upstream connection until both sides are done.
///
/// ```
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// use zokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// // Two in-memory pipes stand in for the client's and the upstream's sockets.
/// let (mut client, mut inbound) = zokio::io::duplex(1024);
/// let (mut outbound, mut upstream) = zokio::io::duplex(1024);
/// let proxy = zokio::spawn(async move {
///     zokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
/// });
///
/// client.write_all(b"request").await.unwrap();
/// let mut request = [0u8; 7];
/// upstream.read_exact(&mut request).await.unwrap();
/// upstream.write_all(b"response").await.unwrap();
/// drop(upstream); // the upstream closes; the proxy closes the client's side
///
/// let mut response = Vec::new();
/// client.read_to_end(&mut response).await.unwrap();
/// assert_eq!(response, b"response");
/// drop(client);
/// assert_eq!(proxy.await.unwrap().unwrap(), (7, 8));
/// # });
/// ```
///
/// # Errors
/// The first error of either direction; the other direction stops with it.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    cooperative(tokio::io::copy_bidirectional(a, b)).await
}

/// [`copy_bidirectional`] with a buffer of `a_to_b_buf_size` bytes for the
/// direction from `a` to `b` and one of `b_to_a_buf_size` bytes for the other.
///
/// # Errors
/// As [`copy_bidirectional`].
pub async fn copy_bidirectional_with_sizes<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b_buf_size: usize,
    b_to_a_buf_size: usize,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    cooperative(tokio::io::copy_bidirectional_with_sizes(
        a,
        b,
        a_to_b_buf_size,
        b_to_a_buf_size,
    ))
    .await
}
