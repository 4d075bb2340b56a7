//! The io_uring side of `fs`: where the worker's driver is a ring and the kernel
//! has the opcode (probed once, `driver/uring/probe.rs`), an operation runs as a
//! ring operation; otherwise it falls back to the blocking pool (`native_or` does
//! both for the path operations). Rings exist only on Linux: elsewhere nothing here
//! is native, and every operation goes to the blocking pool; on Windows the ring's
//! descriptions of path operations are not even compiled (`path_op!`). Every
//! descriptor an operation uses is kept open by a share of its owner until the
//! operation is over. Must never decide anything but "native or not".

#[cfg(target_os = "linux")]
use std::any::Any;
use std::io;
#[cfg(unix)]
use std::os::fd::OwnedFd;
use std::path::Path;
#[cfg(target_os = "linux")]
use std::sync::Arc;

use super::blocking::{asyncify, path_error, paths_error};
#[cfg(target_os = "linux")]
use crate::driver::op::keep_fd::KeepFd;
#[cfg(unix)]
pub(crate) use crate::driver::op::path::PathOp;
#[cfg(target_os = "linux")]
use crate::driver::op::path::{c_path, PathCall};
#[cfg(target_os = "linux")]
use crate::driver::op::{Op, OpKind};

/// Off Unix no path operation is ever described to a driver: `path_op!` leaves the
/// description out before it is compiled, so this type has no values.
#[cfg(not(unix))]
pub(crate) enum PathOp {}

/// The ring's description of a path operation, for `native_or`: `Some(op)` on Unix;
/// `None` elsewhere (Windows), where `op` is not compiled at all, since no driver
/// there serves path operations.
macro_rules! path_op {
    ($op:expr) => {{
        #[cfg(unix)]
        let op = Some($op);
        #[cfg(not(unix))]
        let op = None;
        op
    }};
}
pub(super) use path_op;

/// Whether this thread's driver is a ring that has `opcode`.
#[cfg(target_os = "linux")]
pub(crate) fn native(opcode: u8) -> bool {
    crate::driver::context::on_ring() && crate::driver::uring::probe::supports(opcode)
}

/// Without io_uring nothing is native: the path operations go to the blocking pool.
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) async fn path_call(_path: &Path, _op: PathOp) -> Option<io::Result<Option<OwnedFd>>> {
    None
}

/// Run a path operation on the ring; `None` when it must go to the blocking pool.
#[cfg(target_os = "linux")]
pub(crate) async fn path_call(path: &Path, op: PathOp) -> Option<io::Result<Option<OwnedFd>>> {
    if !native(PathCall::opcode(&op)) {
        return None;
    }
    let path = match c_path(path) {
        Ok(path) => path,
        Err(e) => return Some(Err(e)),
    };
    Some(Op::new(PathCall::new(path, op)).await)
}

/// Run `op` on the ring where it can, else `blocking` on the blocking pool. An
/// error names `path`, and `to` when the operation has a second path. `op` comes
/// from `path_op!`.
pub(super) async fn native_or<F>(
    path: &Path,
    to: Option<&Path>,
    what: &'static str,
    op: Option<PathOp>,
    blocking: F,
) -> io::Result<()>
where
    F: FnOnce(&Path) -> io::Result<()> + Send + 'static,
{
    let name = |e, path: &Path, to: Option<&Path>| match to {
        Some(to) => paths_error(e, what, path, to),
        None => path_error(e, what, path),
    };
    #[cfg(unix)]
    if let Some(op) = op {
        if let Some(done) = path_call(path, op).await {
            return done.map(drop).map_err(|e| name(e, path, to));
        }
    }
    #[cfg(not(unix))]
    let _: Option<PathOp> = op;
    let (path, to) = (path.to_owned(), to.map(Path::to_owned));
    asyncify(move || blocking(&path).map_err(|e| name(e, &path, to.as_deref()))).await
}

/// Run `kind` on a descriptor that `owner` keeps open until the operation is over.
#[cfg(target_os = "linux")]
pub(crate) fn on_file<K: OpKind>(kind: K, owner: Arc<dyn Any + Send + Sync>) -> Op<KeepFd<K>> {
    Op::new(KeepFd { kind, _fd: owner })
}
