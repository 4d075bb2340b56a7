//! The public face of a child's pipe ends, the same on every platform: the types
//! `ChildStdin`, `ChildStdout` and `ChildStderr`, their owned-buffer methods
//! (`read_owned`, `write_owned`, `write_all_owned`), tokio's `AsyncRead`/`AsyncWrite`
//! (feature `tokio-io`), futures' (feature `futures-io`) and `Debug`. One macro,
//! `child_pipes!`, writes them all into the platform's pipe file (`stdio.rs` on Unix,
//! `windows_stdio.rs` on Windows), so that the two platforms cannot drift apart.
//!
//! Each type holds its platform's pipe in a field `pipe`, and every method here only
//! forwards to a method of that pipe with the same meaning, which each platform's
//! pipe type has with the same name and signature:
//! - reading ends: `read_owned`, `read_to_end`, `poll_read_buf` (with `tokio-io`),
//!   `poll_read_slice` (with `futures-io`);
//! - the writing end: `write_owned`, `poll_write`, `poll_write_vectored`,
//!   `is_write_vectored`, `poll_flush`, `poll_shutdown`;
//! - every end: `debug_raw`, the name and value of its descriptor or handle.
//!
//! Nothing here may make a system call, hold `unsafe` code, or depend on the
//! platform: how the calls are made, and the conversions to and from `std`'s ends and
//! the descriptor or handle traits, stay in the platform's file.

/// Writes the three public pipe-end types around the platform's pipe types, with
/// every method and trait impl they share.
macro_rules! child_pipes {
    (stdin: $stdin:ty, stdout: $stdout:ty, stderr: $stderr:ty $(,)?) => {
        /// The parent's writing end of a child's standard input
        /// ([`Child::stdin`](super::Child::stdin)). Dropping it closes the pipe: the
        /// child then reads end of file.
        pub struct ChildStdin {
            pipe: $stdin,
        }

        /// The parent's reading end of a child's standard output
        /// ([`Child::stdout`](super::Child::stdout)).
        pub struct ChildStdout {
            pipe: $stdout,
        }

        /// The parent's reading end of a child's standard error
        /// ([`Child::stderr`](super::Child::stderr)).
        pub struct ChildStderr {
            pipe: $stderr,
        }

        $crate::process::pipe_api::child_pipes!(@debug ChildStdin);
        $crate::process::pipe_api::child_pipes!(@debug ChildStdout);
        $crate::process::pipe_api::child_pipes!(@debug ChildStderr);
        $crate::process::pipe_api::child_pipes!(@read ChildStdout);
        $crate::process::pipe_api::child_pipes!(@read ChildStderr);
        $crate::process::pipe_api::child_pipes!(@write ChildStdin);
    };

    (@debug $name:ident) => {
        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let (field, raw) = self.pipe.debug_raw();
                f.debug_struct(stringify!($name)).field(field, &raw).finish()
            }
        }
    };

    (@read $name:ident) => {
        impl $name {
            /// Read into `buf` (up to its capacity) once the pipe has data; `Ok(0)`
            /// means the child closed its end (usually: it exited). The buffer comes
            /// back with the result.
            pub async fn read_owned<B: $crate::io::IoBufMut>(
                &self,
                buf: B,
            ) -> $crate::io::BufResult<usize, B> {
                self.pipe.read_owned(buf).await
            }

            pub(crate) async fn read_to_end_into(
                &self,
                out: &mut Vec<u8>,
            ) -> ::std::io::Result<()> {
                self.pipe.read_to_end(out).await
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncRead for $name {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.pipe.poll_read_buf(cx, buf)
            }
        }

        #[cfg(feature = "futures-io")]
        impl futures_io::AsyncRead for $name {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.pipe.poll_read_slice(cx, buf)
            }
        }
    };

    (@write $name:ident) => {
        impl $name {
            /// Write some of `buf`'s bytes once the pipe has room; how many is the
            /// result. The buffer comes back with it. `BrokenPipe` once the child
            /// closed its end. On Windows one call writes at most 64 KiB and returns
            /// once the pipe took them.
            pub async fn write_owned<B: $crate::io::IoBuf>(
                &self,
                buf: B,
            ) -> $crate::io::BufResult<usize, B> {
                self.pipe.write_owned(buf).await
            }

            /// Write all of `buf`'s bytes, waiting for room as needed.
            pub async fn write_all_owned<B: $crate::io::IoBuf>(
                &self,
                buf: B,
            ) -> $crate::io::BufResult<(), B> {
                let total = $crate::io::IoBuf::bytes_init(&buf);
                let message = |done, total| {
                    format!("the child's stdin took no more bytes after {done} of {total}")
                };
                $crate::io::until_done(
                    buf,
                    total,
                    ::std::io::ErrorKind::WriteZero,
                    message,
                    |tail, _| self.pipe.write_owned(tail),
                )
                .await
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncWrite for $name {
            $crate::process::pipe_api::child_pipes!(@poll_write);

            fn is_write_vectored(&self) -> bool {
                self.pipe.is_write_vectored()
            }

            /// As tokio's: does not close the pipe (drop the end for that); on Windows
            /// it waits for the write in flight, as a flush.
            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.pipe.poll_shutdown(cx)
            }
        }

        #[cfg(feature = "futures-io")]
        impl futures_io::AsyncWrite for $name {
            $crate::process::pipe_api::child_pipes!(@poll_write);

            /// Does not close the pipe (drop the end for that), as tokio's shutdown;
            /// on Windows it waits for the write in flight, as a flush.
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.pipe.poll_shutdown(cx)
            }
        }
    };

    // The methods tokio's and futures' `AsyncWrite` have alike.
    (@poll_write) => {
        /// On Windows: takes up to 64 KiB and reports them written; a failure of that
        /// write is reported by the next write or flush.
        fn poll_write(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.pipe.poll_write(cx, buf)
        }

        fn poll_write_vectored(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.pipe.poll_write_vectored(cx, bufs)
        }

        /// Waits for a write in flight to reach the pipe (on Windows; on Unix writes
        /// go straight to the pipe and there is nothing to flush).
        fn poll_flush(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.pipe.poll_flush(cx)
        }
    };
}

pub(super) use child_pipes;
