//! Size classes: which small layouts the pool serves, and the block size each gets.
//!
//! A layout is pooled when its size is at most [`MAX_POOLED_SIZE`] and its alignment
//! at most [`BLOCK_ALIGN`]; everything else goes to the global allocator. The answer
//! depends on the layout alone, so `dealloc` can tell a pooled block from a global one
//! without reading memory. Classes step by 16 bytes up to 128 (a task cell of 40 to 48
//! bytes gets a 48-byte block, where malloc would round it to 64), then by a quarter of
//! the power of two, so no block wastes more than a fifth of itself. This file must
//! never hold state: it is a pure table.

use std::alloc::Layout;

/// Every block's alignment: the segment's data area starts on it and every class
/// size is a multiple of it.
pub(super) const BLOCK_ALIGN: usize = 16;

/// The largest size the pool serves; a larger layout goes to the global allocator.
pub(super) const MAX_POOLED_SIZE: usize = 1024;

/// The block size of each class, smallest first.
pub(crate) const CLASS_SIZES: [usize; CLASS_COUNT] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
];

/// How many classes there are.
pub(crate) const CLASS_COUNT: usize = 20;

/// For each size rounded up to a multiple of [`BLOCK_ALIGN`] (indexed by that multiple),
/// the smallest class that holds it. Built at compile time.
const CLASS_BY_GRANULE: [u8; MAX_POOLED_SIZE / BLOCK_ALIGN + 1] = {
    let mut table = [0u8; MAX_POOLED_SIZE / BLOCK_ALIGN + 1];
    let mut granule = 0;
    let mut class = 0;
    while granule < table.len() {
        while CLASS_SIZES[class] < granule * BLOCK_ALIGN {
            class += 1;
        }
        table[granule] = class as u8;
        granule += 1;
    }
    table
};

/// The class that serves `layout`, or `None` when the global allocator must.
#[inline]
pub(super) fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() > MAX_POOLED_SIZE || layout.align() > BLOCK_ALIGN {
        return None;
    }
    Some(CLASS_BY_GRANULE[layout.size().div_ceil(BLOCK_ALIGN)] as usize)
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
                if class > 0 {
                    assert!(
                        CLASS_SIZES[class - 1] < size,
                        "size {size} fits a smaller class"
                    );
                }
            }
        }
        assert_eq!(class_of(Layout::from_size_align(48, 8).unwrap()), Some(2));
    }

    #[test]
    fn miri_pool_classes_are_ordered_multiples_of_the_block_alignment() {
        for pair in CLASS_SIZES.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for size in CLASS_SIZES {
            assert_eq!(size % BLOCK_ALIGN, 0);
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
