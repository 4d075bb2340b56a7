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
