//! The hierarchical timer wheel: 6 levels of 64 slots over millisecond ticks, plus
//! an overflow list for deadlines beyond the wheel's current top-level cycle.
//!
//! Level `L` slot `s` holds entries whose tick shares every digit above `L` (base 64)
//! with `elapsed` and has digit `s` at `L`; an entry moves down a level each time
//! the wheel reaches the start of its slot, so it is touched at most once per level.
//! Entries live in a slab of nodes linked into circular doubly linked lists (one per
//! slot, one for overflow, one for expired entries), so that insertion and removal
//! of any entry, by key, are O(1) and a removed entry leaves nothing behind.
//!
//! This file knows nothing about clocks, wakers or threads: callers give it ticks and
//! take back their values. It must never fire an entry before its tick nor lose one.

/// Bits of a tick per level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Levels in the wheel.
const LEVELS: usize = 6;
/// Ticks in one revolution of the top level (64^6 ms, about 795 days): entries
/// outside the current revolution wait on the overflow list.
pub(crate) const CYCLE: u64 = 1 << (SLOT_BITS * LEVELS as u32);

/// End of a list, or no node.
const NIL: u32 = u32::MAX;

/// Where a node is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// On the free list (its `next` is the next free node).
    Free,
    Slot {
        level: u8,
        slot: u8,
    },
    Overflow,
    Expired,
}

struct Node<T> {
    value: Option<T>,
    when: u64,
    prev: u32,
    next: u32,
    place: Place,
}

/// Identifies an entry for [`Wheel::remove`]; valid until the entry is removed or
/// popped, after which the wheel may hand the same key to another entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(u32);

impl Key {
    pub(crate) fn to_raw(self) -> u32 {
        self.0
    }

    pub(crate) fn from_raw(raw: u32) -> Key {
        Key(raw)
    }
}

/// The next point in time at which the wheel has work, and what that work is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Due {
    Expired,
    Slot { level: usize, slot: usize },
    Overflow,
}

pub(crate) struct Wheel<T> {
    /// Every tick up to and including this one has been processed: an entry whose
    /// tick is `<= elapsed` is on the expired list.
    elapsed: u64,
    /// Bit `s` of `occupied[L]` is set iff slot `s` of level `L` is non-empty.
    occupied: [u64; LEVELS],
    slots: [[u32; SLOTS]; LEVELS],
    overflow: u32,
    /// At or below the tick of every overflow entry (removals leave it low, which
    /// only makes the next look at the overflow list come early).
    overflow_min: u64,
    /// Due entries not yet popped, oldest first.
    expired: u32,
    nodes: Vec<Node<T>>,
    free: u32,
    len: usize,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            elapsed: 0,
            occupied: [0; LEVELS],
            slots: [[NIL; SLOTS]; LEVELS],
            overflow: NIL,
            overflow_min: u64::MAX,
            expired: NIL,
            nodes: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Entries in the wheel, popped ones excluded.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Add `value`, due at tick `when` (a tick already processed makes it due at once).
    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key {
        let node = Node {
            value: Some(value),
            when,
            prev: NIL,
            next: NIL,
            place: Place::Free,
        };
        let index = if self.free != NIL {
            let index = self.free;
            self.free = self.nodes[index as usize].next;
            self.nodes[index as usize] = node;
            index
        } else {
            let index = u32::try_from(self.nodes.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("more than 4 billion timers registered on one worker");
            self.nodes.push(node);
            index
        };
        self.place(index);
        self.len += 1;
        Key(index)
    }

    /// Take out the entry `key` names, wherever it is.
    ///
    /// # Panics
    /// If `key` does not name an entry of this wheel (a bug in the caller).
    pub(crate) fn remove(&mut self, key: Key) -> T {
        let index = key.0;
        let place = self.nodes[index as usize].place;
        assert!(place != Place::Free, "timer wheel: removing a free key");
        self.unlink(index, place);
        self.release(index)
    }

    /// The earliest tick at which [`Wheel::pop_expired`] may return something: exact
    /// for level 0; for higher levels and the overflow list, the tick at which their
    /// entries must move down (never later than any of their deadlines). `None`
    /// when the wheel is empty.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_due().map(|(tick, _)| tick)
    }

    fn next_due(&self) -> Option<(u64, Due)> {
        if self.expired != NIL {
            return Some((self.elapsed, Due::Expired));
        }
        for level in 0..LEVELS {
            let shift = SLOT_BITS * level as u32;
            let digit = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            // Slots at or before `elapsed`'s digit are empty: an entry there would
            // have moved down (or expired) when the wheel reached it.
            debug_assert_eq!(self.occupied[level] & (u64::MAX >> (63 - digit)), 0);
            let later = if digit == SLOTS - 1 {
                0
            } else {
                self.occupied[level] & (u64::MAX << (digit + 1))
            };
            if later != 0 {
                let slot = later.trailing_zeros() as usize;
                let level_span_mask = (1u64 << (shift + SLOT_BITS)) - 1;
                let tick = (self.elapsed & !level_span_mask) + ((slot as u64) << shift);
                return Some((tick, Due::Slot { level, slot }));
            }
        }
        if self.overflow != NIL {
            // Overflow entries belong to a later revolution: look again when the
            // wheel enters the earliest one, skipping the empty revolutions between.
            let tick = self.overflow_min & !(CYCLE - 1);
            debug_assert!(tick > self.elapsed);
            return Some((tick, Due::Overflow));
        }
        None
    }

    /// One entry whose tick is `<= now`, moving the wheel forward to `now` as it
    /// goes; `None` once no entry is due. Entries come out in tick order.
    pub(crate) fn pop_expired(&mut self, now: u64) -> Option<T> {
        loop {
            if self.expired != NIL {
                let index = self.expired;
                self.unlink(index, Place::Expired);
                return Some(self.release(index));
            }
            match self.next_due() {
                Some((tick, due)) if tick <= now => {
                    self.elapsed = tick;
                    let list = match due {
                        Due::Expired => unreachable!("expired list is empty"),
                        Due::Slot { level, slot } => {
                            self.occupied[level] &= !(1 << slot);
                            std::mem::replace(&mut self.slots[level][slot], NIL)
                        }
                        Due::Overflow => {
                            self.overflow_min = u64::MAX;
                            std::mem::replace(&mut self.overflow, NIL)
                        }
                    };
                    self.replace_all(list);
                }
                _ => {
                    self.elapsed = self.elapsed.max(now);
                    return None;
                }
            }
        }
    }

    /// Empty the wheel, handing back every entry (runtime shutdown).
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let values = self.nodes.drain(..).filter_map(|n| n.value).collect();
        self.occupied = [0; LEVELS];
        self.slots = [[NIL; SLOTS]; LEVELS];
        self.overflow = NIL;
        self.overflow_min = u64::MAX;
        self.expired = NIL;
        self.free = NIL;
        self.len = 0;
        values
    }

    /// Link every node of the detached circular list starting at `head` where its
    /// tick now belongs.
    fn replace_all(&mut self, head: u32) {
        if head == NIL {
            return;
        }
        // Detach the ring by walking it from its head until we come back around;
        // each node is relinked elsewhere as we go, so read `next` first.
        let mut index = head;
        loop {
            let next = self.nodes[index as usize].next;
            self.place(index);
            if next == head {
                break;
            }
            index = next;
        }
    }

    /// Link node `index` (not on any list) where its tick belongs.
    fn place(&mut self, index: u32) {
        let when = self.nodes[index as usize].when;
        let place = if when <= self.elapsed {
            Place::Expired
        } else {
            let differing = self.elapsed ^ when;
            if differing >= CYCLE {
                Place::Overflow
            } else {
                let level = (63 - differing.leading_zeros()) / SLOT_BITS;
                let slot = (when >> (level * SLOT_BITS)) as usize & (SLOTS - 1);
                Place::Slot {
                    level: level as u8,
                    slot: slot as u8,
                }
            }
        };
        let head = match place {
            Place::Expired => &mut self.expired,
            Place::Overflow => {
                self.overflow_min = self.overflow_min.min(when);
                &mut self.overflow
            }
            Place::Slot { level, slot } => {
                self.occupied[level as usize] |= 1 << slot;
                &mut self.slots[level as usize][slot as usize]
            }
            Place::Free => unreachable!(),
        };
        push_back(&mut self.nodes, head, index);
        self.nodes[index as usize].place = place;
    }

    fn unlink(&mut self, index: u32, place: Place) {
        let head = match place {
            Place::Expired => &mut self.expired,
            Place::Overflow => &mut self.overflow,
            Place::Slot { level, slot } => &mut self.slots[level as usize][slot as usize],
            Place::Free => unreachable!(),
        };
        unlink(&mut self.nodes, head, index);
        match place {
            Place::Slot { level, slot } if self.slots[level as usize][slot as usize] == NIL => {
                self.occupied[level as usize] &= !(1 << slot);
            }
            // A stale bound from an emptied list could lie in the past by the
            // time the list fills again.
            Place::Overflow if self.overflow == NIL => self.overflow_min = u64::MAX,
            _ => {}
        }
    }

    /// Return an unlinked node to the free list, handing back its value.
    fn release(&mut self, index: u32) -> T {
        let node = &mut self.nodes[index as usize];
        let value = node.value.take().expect("a linked node holds a value");
        node.place = Place::Free;
        node.prev = NIL;
        node.next = self.free;
        self.free = index;
        self.len -= 1;
        if self.len == 0 {
            // Nothing is linked: forget the slab, so that a burst of timers does
            // not pin its memory forever.
            self.nodes.clear();
            self.nodes.shrink_to(64);
            self.free = NIL;
        }
        value
    }
}

/// Append `index` to the circular list at `head` (`head`'s `prev` is the tail).
fn push_back<T>(nodes: &mut [Node<T>], head: &mut u32, index: u32) {
    if *head == NIL {
        nodes[index as usize].prev = index;
        nodes[index as usize].next = index;
        *head = index;
    } else {
        let first = *head;
        let last = nodes[first as usize].prev;
        nodes[index as usize].prev = last;
        nodes[index as usize].next = first;
        nodes[last as usize].next = index;
        nodes[first as usize].prev = index;
    }
}

/// Take `index` out of the circular list at `head`.
fn unlink<T>(nodes: &mut [Node<T>], head: &mut u32, index: u32) {
    let Node { prev, next, .. } = nodes[index as usize];
    if next == index {
        debug_assert_eq!(*head, index);
        *head = NIL;
    } else {
        nodes[prev as usize].next = next;
        nodes[next as usize].prev = prev;
        if *head == index {
            *head = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Tiny deterministic generator (no `rand` dependency).
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn drain_until(wheel: &mut Wheel<u32>, now: u64) -> Vec<u32> {
        std::iter::from_fn(|| wheel.pop_expired(now)).collect()
    }

    #[test]
    fn fires_in_tick_order_and_never_early() {
        let mut wheel = Wheel::new();
        let ticks = [5u64, 1, 64, 63, 4096, 65, 262_143, 2, 100_000];
        for (i, &t) in ticks.iter().enumerate() {
            wheel.insert(t, i as u32);
        }
        let mut fired = Vec::new();
        for now in 0..=262_143u64 {
            for v in drain_until(&mut wheel, now) {
                assert_eq!(ticks[v as usize], now, "entry {v} fired at {now}");
                fired.push(ticks[v as usize]);
            }
        }
        let mut sorted = ticks.to_vec();
        sorted.sort_unstable();
        assert_eq!(fired, sorted);
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_expiration(), None);
    }

    #[test]
    fn cascades_across_every_level_on_a_single_jump() {
        let mut wheel = Wheel::new();
        let ticks: Vec<u64> = (0..LEVELS as u32)
            .map(|l| (1u64 << (l * SLOT_BITS)) * 3 + 7)
            .collect();
        for (i, &t) in ticks.iter().rev().enumerate() {
            wheel.insert(t, (ticks.len() - 1 - i) as u32);
        }
        // One jump far past everything: all come out, still in order.
        let out = drain_until(&mut wheel, u64::MAX / 2);
        assert_eq!(out, (0..ticks.len() as u32).collect::<Vec<_>>());
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn next_expiration_is_exact_at_level_zero_and_never_late() {
        let mut wheel = Wheel::new();
        wheel.insert(10, 0);
        assert_eq!(wheel.next_expiration(), Some(10));
        wheel.insert(1000, 1);
        assert_eq!(wheel.next_expiration(), Some(10));
        assert_eq!(drain_until(&mut wheel, 10), vec![0]);
        // Level 1 reports its slot start (960), at or before the deadline.
        let next = wheel.next_expiration().unwrap();
        assert!(next <= 1000 && next > 10);
        assert!(drain_until(&mut wheel, 999).is_empty());
        assert_eq!(wheel.next_expiration(), Some(1000));
        assert_eq!(drain_until(&mut wheel, 1000), vec![1]);
    }

    #[test]
    fn removal_is_exact_and_leaves_the_wheel_empty() {
        let mut wheel = Wheel::new();
        let keys: Vec<_> = (0..100_000u32)
            .map(|i| wheel.insert(u64::from(i) * 7919 % 5_000_000 + 1, i))
            .collect();
        assert_eq!(wheel.len(), 100_000);
        for (i, key) in keys.into_iter().enumerate() {
            assert_eq!(wheel.remove(key), i as u32);
        }
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_expiration(), None);
        assert_eq!(wheel.occupied, [0; LEVELS]);
        assert!(wheel.nodes.capacity() <= 64);
        assert!(drain_until(&mut wheel, u64::MAX).is_empty());
    }

    #[test]
    fn removal_from_every_list_kind() {
        let mut wheel = Wheel::new();
        let near = wheel.insert(3, 0);
        let mid = wheel.insert(70_000, 1);
        let far = wheel.insert(CYCLE * 5 + 1, 2);
        let keep = wheel.insert(70_000, 3);
        wheel.pop_expired(2);
        let due = wheel.insert(1, 4); // already passed: expired list
        assert_eq!(wheel.remove(due), 4);
        assert_eq!(wheel.remove(far), 2);
        assert_eq!(wheel.remove(mid), 1);
        assert_eq!(wheel.remove(near), 0);
        assert_eq!(drain_until(&mut wheel, CYCLE * 10), vec![3]);
        let _ = keep;
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn overflow_entries_fire_on_time() {
        let mut wheel = Wheel::new();
        let far = CYCLE * 3 + 12_345;
        let edge = CYCLE + 5; // just past the first revolution
        wheel.insert(far, 0);
        wheel.insert(edge, 1);
        wheel.insert(CYCLE - 1, 2);
        assert!(wheel.next_expiration().unwrap() < CYCLE);
        assert_eq!(drain_until(&mut wheel, CYCLE - 1), vec![2]);
        assert!(drain_until(&mut wheel, edge - 1).is_empty());
        assert_eq!(drain_until(&mut wheel, edge), vec![1]);
        assert!(drain_until(&mut wheel, far - 1).is_empty());
        assert_eq!(wheel.next_expiration(), Some(far));
        assert_eq!(drain_until(&mut wheel, far), vec![0]);
    }

    #[test]
    fn insert_in_the_past_is_due_at_once() {
        let mut wheel = Wheel::new();
        assert!(drain_until(&mut wheel, 500).is_empty());
        wheel.insert(100, 7);
        assert_eq!(wheel.next_expiration(), Some(500));
        assert_eq!(drain_until(&mut wheel, 500), vec![7]);
    }

    #[test]
    fn extreme_ticks_do_not_overflow() {
        let mut wheel = Wheel::new();
        wheel.insert(u64::MAX, 0);
        wheel.insert(u64::MAX - 1, 1);
        assert!(drain_until(&mut wheel, u64::MAX - 2).is_empty());
        assert_eq!(drain_until(&mut wheel, u64::MAX), vec![1, 0]);
    }

    /// Random inserts, removals and polls against a sorted model: every entry fires
    /// at the first poll whose `now` reaches its tick, never earlier or later.
    #[test]
    fn matches_a_sorted_model() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut wheel = Wheel::new();
        let mut model: BTreeMap<(u64, u32), Key> = BTreeMap::new();
        let mut now = 0u64;
        let mut id = 0u32;
        for _ in 0..20_000 {
            match rng.next() % 10 {
                0..=4 => {
                    let span = [64, 4096, 1 << 20, CYCLE * 2][(rng.next() % 4) as usize];
                    let when = now + rng.next() % span;
                    let key = wheel.insert(when, id);
                    model.insert((when.max(now), id), key);
                    id += 1;
                }
                5 | 6 => {
                    if let Some((&k, _)) = model.iter().nth((rng.next() % 8) as usize) {
                        let key = model.remove(&k).unwrap();
                        assert_eq!(wheel.remove(key), k.1);
                    }
                }
                _ => {
                    let step = [1, 50, 5000, CYCLE / 3][(rng.next() % 4) as usize];
                    now += rng.next() % step;
                    let mut got = drain_until(&mut wheel, now);
                    let mut want: Vec<u32> = Vec::new();
                    while let Some((&(when, v), _)) = model.iter().next() {
                        if when > now {
                            break;
                        }
                        model.remove(&(when, v));
                        want.push(v);
                    }
                    got.sort_unstable();
                    want.sort_unstable();
                    assert_eq!(got, want, "at now = {now}");
                    if let Some(next) = wheel.next_expiration() {
                        let earliest = model.keys().next().unwrap().0;
                        assert!(next > now && next <= earliest);
                    }
                }
            }
            assert_eq!(wheel.len(), model.len());
        }
    }
}
