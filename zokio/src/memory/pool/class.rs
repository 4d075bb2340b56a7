//! Size classes: which small layouts the pool serves, and the block size each gets.
//!
//! A layout is pooled when its size is at most [`MAX_POOLED_SIZE`] and its alignment
//! at most [`BLOCK_ALIGN`]; everything else goes to the global allocator. The answer
//! depends on the layout alone, so `dealloc` can tell a pooled block from a global one
//! without reading memory. Classes step by 8 bytes up to 64 (a task cell of 40 bytes,
//! the common idle task, gets a 40-byte block, where malloc would take 48), by 16 up
//! to 128, then by a quarter of the power of two, so no block wastes more than a fifth
//! of itself. A class whose size is not a multiple of 16 hands out blocks aligned to 8
//! only, so a layout aligned to 16 skips it. This file must never hold state: it is a
//! pure table.

use std::alloc::Layout;

/// The largest alignment a pooled block has: the segment's data area starts on it,
/// and so does every block of a class whose size is a multiple of it.
pub(super) const BLOCK_ALIGN: usize = 16;

/// Every class size is a multiple of this, which every block is aligned to.
const GRANULE: usize = 8;

/// The largest size the pool serves; a larger layout goes to the global allocator.
pub(super) const MAX_POOLED_SIZE: usize = 1024;

/// The block size of each class, smallest first.
pub(crate) const CLASS_SIZES: [usize; CLASS_COUNT] = [
    16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768,
    896, 1024,
];

/// How many classes there are.
pub(crate) const CLASS_COUNT: usize = 23;

/// For each size rounded up to a multiple of [`GRANULE`] (indexed by that multiple),
/// the smallest class that holds it whose blocks are aligned to `align`. Built at
/// compile time.
const fn class_table(align: usize) -> [u8; MAX_POOLED_SIZE / GRANULE + 1] {
    let mut table = [0u8; MAX_POOLED_SIZE / GRANULE + 1];
    let mut granule = 0;
    let mut class = 0;
    while granule < table.len() {
        while CLASS_SIZES[class] < granule * GRANULE || CLASS_SIZES[class] % align != 0 {
            class += 1;
        }
        table[granule] = class as u8;
        granule += 1;
    }
    table
}

/// Classes for layouts aligned to at most [`GRANULE`].
const CLASS_BY_GRANULE: [u8; MAX_POOLED_SIZE / GRANULE + 1] = class_table(GRANULE);
/// Classes for layouts aligned to more (up to [`BLOCK_ALIGN`]).
const CLASS_BY_GRANULE_ALIGNED: [u8; MAX_POOLED_SIZE / GRANULE + 1] = class_table(BLOCK_ALIGN);

/// The class that serves `layout`, or `None` when the global allocator must.
#[inline]
pub(super) fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() > MAX_POOLED_SIZE || layout.align() > BLOCK_ALIGN {
        return None;
    }
    let granule = layout.size().div_ceil(GRANULE);
    let table = if layout.align() <= GRANULE {
        &CLASS_BY_GRANULE
    } else {
        &CLASS_BY_GRANULE_ALIGNED
    };
    Some(table[granule] as usize)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn miri_pool_every_size_maps_to_the_smallest_class_that_holds_it() {
        for size in 0..=MAX_POOLED_SIZE {
            for align in [1, 2, 4, 8, 16] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let class = class_of(layout).expect("a small layout is pooled");
                assert!(CLASS_SIZES[class] >= size, "size {size} in class {class}");
                assert_eq!(
                    CLASS_SIZES[class] % align,
                    0,
                    "size {size} align {align}: class {class}'s blocks are not aligned"
                );
                // No smaller class both holds the size and keeps the alignment.
                for (smaller, &smaller_size) in CLASS_SIZES[..class].iter().enumerate() {
                    assert!(
                        smaller_size < size || smaller_size % align != 0,
                        "size {size} align {align} fits class {smaller}"
                    );
                }
            }
        }
        // The idle task cell: 40 bytes aligned to 8 take a 40-byte block.
        assert_eq!(
            CLASS_SIZES[class_of(Layout::from_size_align(40, 8).unwrap()).unwrap()],
            40
        );
        assert_eq!(
            CLASS_SIZES[class_of(Layout::from_size_align(40, 16).unwrap()).unwrap()],
            48
        );
    }

    #[test]
    fn miri_pool_classes_are_ordered_multiples_of_the_block_alignment() {
        for pair in CLASS_SIZES.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for size in CLASS_SIZES {
            assert_eq!(size % GRANULE, 0);
            // A free block holds the free list's link.
            assert!(size >= std::mem::size_of::<usize>());
        }
        assert_eq!(CLASS_SIZES[CLASS_COUNT - 1], MAX_POOLED_SIZE);
    }

    #[test]
    fn miri_pool_large_or_overaligned_layouts_are_not_pooled() {
        assert_eq!(
            class_of(Layout::from_size_align(MAX_POOLED_SIZE + 1, 8).unwrap()),
            None
        );
        assert_eq!(class_of(Layout::from_size_align(64, 32).unwrap()), None);
        assert_eq!(class_of(Layout::from_size_align(0, 4096).unwrap()), None);
    }
}
