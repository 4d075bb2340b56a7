//! The segment directory: a small number for every live segment, so that a pooled
//! block's address fits in 32 bits (its segment's number, then its offset in the
//! segment in units of 8 bytes).
//!
//! The task registry (`task/owned.rs`) keeps one entry per live task; a 4-byte entry
//! instead of an 8-byte pointer is a tenth of what an idle pooled task costs. Only
//! the registry's shutdown walk turns a short address back into a pointer, so the
//! directory sits behind one process-wide lock that the block paths never take:
//! a segment takes its number when it is mapped and gives it back when it is
//! unmapped (once per 64 KiB of blocks), and a shutdown reads it.
//!
//! The lock is a plain `std` mutex even under loom: no loom operation happens while
//! it is held, so it can never block a loom thread that another one must run to
//! release it. This file must never be on the path of a block's allocation or free.

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::segment::{Segment, SEGMENT_SIZE};

/// Bits a short address gives to the block's offset inside its segment, in units of
/// [`OFFSET_UNIT`] bytes.
const OFFSET_BITS: u32 = (SEGMENT_SIZE / OFFSET_UNIT).trailing_zeros();

/// Every block starts on a multiple of this inside its segment (the smallest class
/// step), so the offset's low bits are always zero and need no room.
const OFFSET_UNIT: usize = 8;

/// Segments that can hold a number at once: 16 GiB of live pool memory. The short
/// address's top bit stays clear, for the registry to mark its free slots with.
const MAX_NUMBERED: usize = 1 << (31 - OFFSET_BITS);

/// A short address's top bit is never set.
pub(crate) const SHORT_ADDRESS_LIMIT: u32 = 1 << 31;

const _: () = assert!(SEGMENT_SIZE.is_power_of_two() && OFFSET_BITS == 13);

/// A segment's number, or none when the directory was full when it was mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Number(u32);

impl Number {
    pub(super) const NONE: Number = Number(u32::MAX);
}

struct Directory {
    /// Indexed by number; `None` for a number nobody holds.
    segments: Vec<Option<SegmentPtr>>,
    /// Numbers given back, reused first so that the table stays as small as the
    /// largest number of segments alive at once.
    free: Vec<u32>,
}

/// A live segment's address, with the provenance of its whole mapping.
#[derive(Clone, Copy)]
struct SegmentPtr(NonNull<Segment>);

// SAFETY: the directory only stores and hands back addresses; whoever dereferences one
// proves the segment alive by holding one of its blocks.
unsafe impl Send for SegmentPtr {}

static DIRECTORY: Mutex<Directory> = Mutex::new(Directory {
    segments: Vec::new(),
    free: Vec::new(),
});

fn lock() -> MutexGuard<'static, Directory> {
    // Nothing that runs under the lock can panic halfway through an update (a push or
    // a pop, which abort rather than unwind on allocation failure), so a poisoned
    // directory is still consistent.
    DIRECTORY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Gives a freshly mapped segment a number; [`Number::NONE`] when every number is
/// taken (its blocks then have no short address).
pub(super) fn register(segment: NonNull<Segment>) -> Number {
    let mut directory = lock();
    let entry = Some(SegmentPtr(segment));
    if let Some(number) = directory.free.pop() {
        directory.segments[number as usize] = entry;
        return Number(number);
    }
    let number = directory.segments.len();
    if number >= MAX_NUMBERED {
        return Number::NONE;
    }
    directory.segments.push(entry);
    Number(number as u32)
}

/// Takes back the number of a segment about to be unmapped.
pub(super) fn unregister(number: Number) {
    if number == Number::NONE {
        return;
    }
    let mut directory = lock();
    directory.segments[number.0 as usize] = None;
    directory.free.push(number.0);
}

/// The short address of a block at `offset` bytes into the segment numbered `number`.
#[inline]
pub(super) fn short_address(number: Number, offset: usize) -> Option<u32> {
    if number == Number::NONE {
        return None;
    }
    debug_assert!(offset < SEGMENT_SIZE && offset % OFFSET_UNIT == 0);
    Some((number.0 << OFFSET_BITS) | (offset / OFFSET_UNIT) as u32)
}

/// Turns short addresses back into blocks while it is alive (it holds the directory's
/// lock, so take one for a whole batch rather than one per address).
pub(crate) struct Expander {
    directory: MutexGuard<'static, Directory>,
}

impl Expander {
    pub(super) fn new() -> Expander {
        Expander { directory: lock() }
    }

    /// The block whose short address is `short`.
    ///
    /// # Safety
    /// `short` is the short address of a block that is still handed out (so its
    /// segment, and the segment's number, are still alive).
    pub(crate) unsafe fn expand(&self, short: u32) -> NonNull<u8> {
        let number = (short >> OFFSET_BITS) as usize;
        let offset = (short as usize & ((1 << OFFSET_BITS) - 1)) * OFFSET_UNIT;
        let segment = self.directory.segments[number]
            .expect("a short address names a live segment")
            .0;
        // SAFETY: the caller's promise keeps the segment mapped; `offset` is below
        // SEGMENT_SIZE, inside the mapping whose provenance the pointer carries.
        unsafe { segment.cast::<u8>().add(offset) }
    }
}
