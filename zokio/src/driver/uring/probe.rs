//! Which io_uring opcodes this kernel has, asked once per process (the answer does
//! not change while it runs), so that an operation without a native opcode goes to
//! the blocking pool instead of failing with `EINVAL` each time. Must never be
//! asked on a hot path before the first answer is cached.

use std::sync::OnceLock;

/// One bit per opcode (io_uring has fewer than 128).
static SUPPORTED: OnceLock<u128> = OnceLock::new();

/// Whether the running kernel's io_uring supports `opcode`.
pub(crate) fn supports(opcode: u8) -> bool {
    let bits = SUPPORTED.get_or_init(|| {
        let Ok(ring) = io_uring::IoUring::new(2) else {
            return 0;
        };
        let mut probe = io_uring::Probe::new();
        if ring.submitter().register_probe(&mut probe).is_err() {
            return 0;
        }
        (0..128u8)
            .filter(|&op| probe.is_supported(op))
            .fold(0u128, |bits, op| bits | (1 << op))
    });
    opcode < 128 && bits & (1 << opcode) != 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn nop_is_supported_wherever_a_ring_exists() {
        if io_uring::IoUring::new(2).is_ok() {
            assert!(super::supports(io_uring::opcode::Nop::CODE));
        }
        assert!(!super::supports(200));
    }
}
