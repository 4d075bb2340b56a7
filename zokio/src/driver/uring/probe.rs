//! Which io_uring opcodes this kernel has, asked once per process when the first
//! ring is built (the answer does not change while it runs), so that an operation
//! without a native opcode goes to the blocking pool instead of failing with
//! `EINVAL` each time. Must never be asked on a hot path before the first answer
//! is cached.

use std::sync::OnceLock;

/// One bit per opcode (io_uring has fewer than 128).
static SUPPORTED: OnceLock<u128> = OnceLock::new();

/// Whether the running kernel's io_uring supports `opcode`.
pub(crate) fn supports(opcode: u8) -> bool {
    let bits = SUPPORTED.get_or_init(|| {
        let Ok(ring) = io_uring::IoUring::new(2) else {
            return 0;
        };
        opcodes_of(&ring).unwrap_or(0)
    });
    opcode < 128 && bits & (1 << opcode) != 0
}

/// Ask once, at start-up, with a ring the runtime just built, so that no file
/// operation pays for the question later. A failed probe leaves it to `supports`.
pub(crate) fn record(ring: &io_uring::IoUring) {
    if SUPPORTED.get().is_none() {
        if let Some(bits) = opcodes_of(ring) {
            if SUPPORTED.set(bits).is_ok() {
                let has = |op: u8| bits & (1 << op) != 0;
                log::debug!(
                    "io_uring: {} opcodes; receives wait for data first where the last one \
                     emptied the socket (IORING_RECVSEND_POLL_FIRST, with IORING_OP_SOCKET in \
                     5.19): {}",
                    bits.count_ones(),
                    has(io_uring::opcode::Socket::CODE)
                );
            }
        }
    }
}

fn opcodes_of(ring: &io_uring::IoUring) -> Option<u128> {
    let mut probe = io_uring::Probe::new();
    ring.submitter().register_probe(&mut probe).ok()?;
    Some(
        (0..128u8)
            .filter(|&op| probe.is_supported(op))
            .fold(0u128, |bits, op| bits | (1 << op)),
    )
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

    /// The probe made on a runtime's own ring (set up disabled and single-issuer)
    /// answers, rather than leaving every file operation on the blocking pool.
    #[test]
    fn a_runtime_ring_answers_the_probe() {
        let Ok((ring, _)) = crate::driver::uring::new_ring(true) else {
            return; // no io_uring here
        };
        let bits = super::opcodes_of(&ring).expect("probing a freshly built ring");
        assert!(bits & (1 << io_uring::opcode::Read::CODE) != 0);
        super::record(&ring);
        assert!(super::supports(io_uring::opcode::Read::CODE));
    }
}
