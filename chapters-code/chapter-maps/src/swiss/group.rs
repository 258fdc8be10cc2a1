//! Control words and groups: eight slots and the eight bytes that describe them.
//!
//! Go: internal/runtime/maps/group.go. A group is one 64-bit control word followed by eight
//! key/value slots. Each control byte is `ctrlEmpty` (0x80), `ctrlDeleted` (0xFE, a tombstone)
//! or, for a full slot, `0b0hhhhhhh` where the seven `h` bits are the key's H2. Because the
//! eight bytes sit in one `u64`, a lookup checks all eight slots with a handful of integer
//! instructions (SWAR: SIMD within a register). Go uses SSE on amd64 and this portable
//! arithmetic elsewhere; here it is the portable version everywhere, with Go's byte-per-slot
//! bitset (0x80 in each byte that is in the set).

use std::mem::MaybeUninit;

/// Slots per group. Go: `abi.MapGroupSlots`.
pub const GROUP_SLOTS: usize = 8;

/// Go: `ctrlEmpty`. The top bit set marks "not full"; the low bits tell empty from deleted.
pub const CTRL_EMPTY: u8 = 0b1000_0000;
/// Go: `ctrlDeleted`, the tombstone.
pub const CTRL_DELETED: u8 = 0b1111_1110;

/// Go: `bitsetLSB`, the low bit of every byte.
pub const BITSET_LSB: u64 = 0x0101_0101_0101_0101;
/// Go: `bitsetMSB`, the high bit of every byte.
pub const BITSET_MSB: u64 = 0x8080_8080_8080_8080;
/// Go: `bitsetEmpty`, a control word of eight empty slots.
pub const BITSET_EMPTY: u64 = BITSET_LSB * CTRL_EMPTY as u64;

/// A set of slots of one group: byte `i` is 0x80 when slot `i` is in the set, 0 otherwise.
///
/// Go: `bitset` (its non-amd64 representation). Iterating it yields slot indexes, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bitset(pub u64);

impl Bitset {
    /// Whether the set is non-empty.
    #[inline(always)]
    pub fn any(self) -> bool {
        self.0 != 0
    }

    /// Go: `bitset.first`: the lowest slot in the set. The set must not be empty.
    #[inline(always)]
    pub fn first(self) -> usize {
        debug_assert!(self.0 != 0);
        (self.0.trailing_zeros() >> 3) as usize
    }

    /// Go: `bitset.removeFirst`: clear the lowest set bit.
    #[inline(always)]
    pub fn remove_first(self) -> Bitset {
        Bitset(self.0 & self.0.wrapping_sub(1))
    }

    /// Go: `bitset.removeBelow`: drop the slots below `i`.
    #[inline(always)]
    pub fn remove_below(self, i: usize) -> Bitset {
        let mask = (1u64 << (8 * i as u64)) - 1;
        Bitset(self.0 & !mask)
    }

    /// Keep only the slots below `i` (the mirror of `remove_below`, used by iteration).
    #[inline(always)]
    pub fn keep_below(self, i: usize) -> Bitset {
        let mask = (1u64 << (8 * i as u64)) - 1;
        Bitset(self.0 & mask)
    }

    /// Go: `bitset.count`.
    #[inline(always)]
    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }
}

impl Iterator for Bitset {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.first();
        *self = self.remove_first();
        Some(i)
    }
}

/// The control word of a group: control byte `i` is bits `8i..8i+8`.
///
/// Go: `ctrlGroup`. Go reads byte `i` through a pointer and flips the index on big-endian
/// machines; shifting the `u64` gives the same numbering on every machine without `unsafe`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Ctrl(pub u64);

impl std::fmt::Debug for Ctrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ctrl({:#018x})", self.0)
    }
}

impl Ctrl {
    /// Eight empty slots. Go: `ctrlGroup.setEmpty`.
    pub const EMPTY: Ctrl = Ctrl(BITSET_EMPTY);

    /// Go: `ctrlGroup.get`.
    #[inline(always)]
    pub fn get(self, i: usize) -> u8 {
        (self.0 >> (8 * i)) as u8
    }

    /// Go: `ctrlGroup.set`.
    #[inline(always)]
    pub fn set(&mut self, i: usize, c: u8) {
        let shift = 8 * i;
        self.0 = (self.0 & !(0xFF << shift)) | ((c as u64) << shift);
    }

    // ANCHOR: match_h2
    /// The full slots whose stored H2 equals `h2`.
    ///
    /// Go: `ctrlGroupMatchH2` (group.go), the portable version. XOR turns every matching byte
    /// into 0; `(v - 0x01..) & !v & 0x80..` then flags the zero bytes. The subtraction borrows
    /// across bytes, so a byte equal to `h2 ^ 1` just above a real match can be flagged too: a
    /// rare false positive that key comparison filters out. It never flags empty or deleted
    /// bytes, whose top bit survives the XOR (H2 has only seven bits).
    #[inline(always)]
    pub fn match_h2(self, h2: u8) -> Bitset {
        // ANCHOR: solution-match_h2
        let v = self.0 ^ (BITSET_LSB * h2 as u64);
        Bitset(v.wrapping_sub(BITSET_LSB) & !v & BITSET_MSB)
        // ANCHOR_END: solution-match_h2
    }
    // ANCHOR_END: match_h2

    /// The empty slots (not the deleted ones). Go: `ctrlGroupMatchEmpty`.
    ///
    /// Empty is `1000_0000`, deleted `1111_1110`: both have bit 7 set, only deleted has bit 1.
    /// Shifting left by 6 moves bit 1 under bit 7, so `v & !(v << 6)` keeps bit 7 only for empty.
    #[inline(always)]
    pub fn match_empty(self) -> Bitset {
        let v = self.0;
        Bitset(v & !(v << 6) & BITSET_MSB)
    }

    /// The empty or deleted slots: bit 7 set. Go: `ctrlGroupMatchEmptyOrDeleted`.
    #[inline(always)]
    pub fn match_empty_or_deleted(self) -> Bitset {
        Bitset(self.0 & BITSET_MSB)
    }

    /// The full slots: bit 7 clear. Go: `ctrlGroupMatchFull`.
    #[inline(always)]
    pub fn match_full(self) -> Bitset {
        Bitset(!self.0 & BITSET_MSB)
    }

    /// Whether any slot is full. Go: `ctrlGroup.anyFull`.
    #[inline(always)]
    pub fn any_full(self) -> bool {
        self.match_full().any()
    }
}

/// One group: the control word, then eight interleaved key/value slots.
///
/// Go: the `group` struct described on `groupReference` (group.go), in the default interleaved
/// layout (K,V,K,V…). A slot is initialised exactly when its control byte is full; every
/// function that turns a byte full or not-full keeps that invariant, and it is what makes the
/// `unsafe` reads in this module and in `table.rs` sound.
#[repr(C)]
pub struct Group<K, V> {
    pub ctrl: Ctrl,
    pub slots: [MaybeUninit<(K, V)>; GROUP_SLOTS],
}

impl<K, V> Group<K, V> {
    /// A group of eight empty slots. Go: `newGroups` followed by `setEmpty`.
    #[inline]
    pub fn new_empty() -> Self {
        Group {
            ctrl: Ctrl::EMPTY,
            slots: [const { MaybeUninit::uninit() }; GROUP_SLOTS],
        }
    }

    /// The entry in slot `i`.
    ///
    /// # Safety
    /// `i < 8` and control byte `i` is full (so the slot is initialised).
    #[inline(always)]
    pub unsafe fn slot(&self, i: usize) -> &(K, V) {
        debug_assert!(i < GROUP_SLOTS && self.ctrl.get(i) & CTRL_EMPTY == 0);
        // SAFETY: the caller guarantees `i` is in bounds and the slot is full, hence initialised.
        unsafe { self.slots.get_unchecked(i).assume_init_ref() }
    }

    /// The entry in slot `i`, mutably.
    ///
    /// # Safety
    /// As for [`Group::slot`].
    #[inline(always)]
    pub unsafe fn slot_mut(&mut self, i: usize) -> &mut (K, V) {
        debug_assert!(i < GROUP_SLOTS && self.ctrl.get(i) & CTRL_EMPTY == 0);
        // SAFETY: as in `slot`.
        unsafe { self.slots.get_unchecked_mut(i).assume_init_mut() }
    }

    /// Moves the entry out of slot `i` and marks the slot with `ctrl` (empty or deleted) first,
    /// so that nothing can see the moved-out slot as full.
    ///
    /// # Safety
    /// As for [`Group::slot`]; `ctrl` must be `CTRL_EMPTY` or `CTRL_DELETED`.
    #[inline(always)]
    pub unsafe fn take(&mut self, i: usize, ctrl: u8) -> (K, V) {
        debug_assert!(ctrl & CTRL_EMPTY != 0);
        debug_assert!(i < GROUP_SLOTS && self.ctrl.get(i) & CTRL_EMPTY == 0);
        self.ctrl.set(i, ctrl);
        // SAFETY: the slot was full (caller), so it is initialised; it is now marked not full,
        // so this read is the only owner of the value.
        unsafe { self.slots.get_unchecked(i).assume_init_read() }
    }

    /// Writes an entry into slot `i` and marks it full with `h2`.
    ///
    /// `i` must be a slot that is not full (otherwise the old entry leaks; never unsound).
    #[inline(always)]
    pub fn put(&mut self, i: usize, h2: u8, kv: (K, V)) {
        debug_assert!(self.ctrl.get(i) & CTRL_EMPTY != 0 && h2 & CTRL_EMPTY == 0);
        self.slots[i & (GROUP_SLOTS - 1)].write(kv);
        self.ctrl.set(i, h2);
    }

    /// Drops every full entry and marks all eight slots empty. If a destructor panics, the
    /// entries not yet dropped leak; none is ever dropped twice.
    pub fn clear(&mut self) {
        let full = self.ctrl.match_full();
        self.ctrl = Ctrl::EMPTY;
        if std::mem::needs_drop::<(K, V)>() {
            for i in full {
                // SAFETY: `i` was full before the control word was reset, so it is initialised,
                // and with the slot now empty nothing else will drop it.
                unsafe { self.slots.get_unchecked_mut(i).assume_init_drop() }
            }
        }
    }

    /// A copy of this group's control word and keys (values replaced by `()`), slot for slot.
    /// Used to keep an old table's order alive for cursors; see `iter.rs`.
    pub fn snapshot_keys(&self) -> Group<K, ()>
    where
        K: Clone,
    {
        let mut g = Group::<K, ()>::new_empty();
        for i in self.ctrl.match_full() {
            // SAFETY: `i` is full in `self`.
            let k = unsafe { &self.slot(i).0 };
            g.slots[i].write((k.clone(), ()));
            // Mark it only after the clone succeeded, so a panicking `clone` leaves `g` consistent.
            g.ctrl.set(i, self.ctrl.get(i));
        }
        g
    }
}

impl<K, V> Group<K, V> {
    /// Asks the CPU to start fetching every cache line of this group at once.
    ///
    /// Not in Go. A lookup reads the control word, then the matching slot, which for all but
    /// the smallest entries lies on a later cache line of the 8-slot group: two dependent cache
    /// misses. Prefetching the group's lines up front overlaps them. A hint only: it changes no
    /// state, and it is a no-op off x86-64 and under Miri.
    #[inline(always)]
    pub fn prefetch(&self) {
        self.prefetch_from(64);
    }

    /// [`Group::prefetch`] including the control word's line: for a group read later.
    #[inline(always)]
    pub fn prefetch_all(&self) {
        self.prefetch_from(0);
    }

    #[inline(always)]
    #[cfg_attr(any(not(target_arch = "x86_64"), miri), allow(unused_variables))]
    fn prefetch_from(&self, first: usize) {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            const LINE: usize = 64;
            let p = (self as *const Self).cast::<i8>();
            let mut off = first;
            // Fetch from byte `first` on (64 skips the control word's line, which the lookup
            // loads at once anyway), at most four lines in all, so that groups of large entries
            // do not flood the memory system.
            while off < size_of::<Self>().min(4 * LINE) {
                // SAFETY: `_mm_prefetch` never faults and reads nothing the program can see;
                // SSE is part of the x86-64 baseline. `off < size_of::<Self>()`, so the address
                // stays inside this group.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
                off += LINE;
            }
        }
    }
}

/// A boxed group that owns its entries: the small map's storage. Go: a small map's `dirPtr`
/// pointing straight at one group.
pub struct GroupBox<K, V>(pub Box<Group<K, V>>);

impl<K, V> Drop for GroupBox<K, V> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a control word from its eight bytes, slot 0 first.
    fn ctrl(bytes: [u8; 8]) -> Ctrl {
        Ctrl(u64::from_le_bytes(bytes))
    }

    fn slots(b: Bitset) -> Vec<usize> {
        b.collect()
    }

    #[test]
    fn match_h2_finds_exactly_the_matching_full_bytes() {
        let c = ctrl([0x11, CTRL_EMPTY, 0x22, 0x11, CTRL_DELETED, 0x7f, 0x00, 0x11]);
        assert_eq!(slots(c.match_h2(0x11)), vec![0, 3, 7]);
        assert_eq!(slots(c.match_h2(0x22)), vec![2]);
        assert_eq!(slots(c.match_h2(0x7f)), vec![5]);
        assert_eq!(slots(c.match_h2(0x00)), vec![6]);
        assert_eq!(slots(c.match_h2(0x33)), Vec::<usize>::new());
        assert_eq!(slots(Ctrl::EMPTY.match_h2(0)), Vec::<usize>::new());
    }

    #[test]
    fn match_h2_never_matches_empty_or_deleted_for_any_h2() {
        let c = ctrl([
            CTRL_EMPTY,
            CTRL_DELETED,
            CTRL_EMPTY,
            CTRL_DELETED,
            CTRL_EMPTY,
            CTRL_EMPTY,
            CTRL_DELETED,
            CTRL_EMPTY,
        ]);
        for h in 0..=0x7f {
            assert_eq!(c.match_h2(h), Bitset(0), "h2 {h:#x}");
        }
    }

    #[test]
    fn match_h2_false_positive_documented_by_go() {
        // Go's note: ctrls 0x0302 (slot 0 = 0x02, slot 1 = 0x03) and h2 = 0x02 flag both slots,
        // because the borrow from the real match turns 0x01 into 0xff. Only with a real match.
        let c = ctrl([
            0x02, 0x03, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY,
        ]);
        assert_eq!(slots(c.match_h2(0x02)), vec![0, 1]);
        let no_real_match = ctrl([
            0x05, 0x03, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY, CTRL_EMPTY,
        ]);
        assert_eq!(slots(no_real_match.match_h2(0x02)), Vec::<usize>::new());
    }

    #[test]
    fn match_h2_agrees_with_a_bytewise_scan_up_to_false_positives() {
        // Exhaustive over a pseudo-random sample: every true match is reported, every reported
        // slot is full, and a false positive only follows a true match in a lower slot.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..if cfg!(miri) { 200 } else { 20_000 } {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut bytes = x.to_le_bytes();
            for b in &mut bytes {
                *b = match *b % 4 {
                    0 => CTRL_EMPTY,
                    1 => CTRL_DELETED,
                    _ => *b & 0x7, // few distinct H2 values, so matches are frequent
                };
            }
            let c = ctrl(bytes);
            for h in 0..8u8 {
                let got = slots(c.match_h2(h));
                let want: Vec<usize> = (0..8).filter(|&i| bytes[i] == h).collect();
                for w in &want {
                    assert!(got.contains(w), "{c:?} h2 {h}: missed slot {w}");
                }
                for g in &got {
                    assert!(
                        bytes[*g] & CTRL_EMPTY == 0,
                        "{c:?}: matched a non-full slot"
                    );
                    if !want.contains(g) {
                        assert!(
                            want.iter().any(|w| w < g),
                            "{c:?}: false positive without a lower match"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn match_empty_deleted_full_partition_the_group() {
        let c = ctrl([
            CTRL_EMPTY,
            0x01,
            CTRL_DELETED,
            0x7f,
            CTRL_EMPTY,
            CTRL_DELETED,
            0x00,
            0x40,
        ]);
        assert_eq!(slots(c.match_empty()), vec![0, 4]);
        assert_eq!(slots(c.match_empty_or_deleted()), vec![0, 2, 4, 5]);
        assert_eq!(slots(c.match_full()), vec![1, 3, 6, 7]);
        assert!(c.any_full());
        assert!(!Ctrl::EMPTY.any_full());
        assert_eq!(Ctrl::EMPTY.match_empty().count(), 8);
    }

    #[test]
    fn set_and_get_address_one_byte() {
        let mut c = Ctrl::EMPTY;
        c.set(3, 0x2a);
        c.set(7, CTRL_DELETED);
        assert_eq!(c.get(3), 0x2a);
        assert_eq!(c.get(7), CTRL_DELETED);
        assert_eq!(c.get(0), CTRL_EMPTY);
        assert_eq!(slots(c.match_full()), vec![3]);
    }

    #[test]
    fn bitset_remove_below_and_keep_below() {
        let b = Bitset(BITSET_MSB);
        assert_eq!(slots(b.remove_below(3)), vec![3, 4, 5, 6, 7]);
        assert_eq!(slots(b.keep_below(3)), vec![0, 1, 2]);
        assert_eq!(b.remove_below(0), b);
        assert_eq!(b.keep_below(0), Bitset(0));
    }

    #[test]
    fn group_drops_each_full_entry_once() {
        use std::rc::Rc;
        let rc = Rc::new(());
        let mut g = Group::<u8, Rc<()>>::new_empty();
        g.put(1, 5, (1, rc.clone()));
        g.put(6, 9, (6, rc.clone()));
        assert_eq!(Rc::strong_count(&rc), 3);
        // SAFETY: slot 1 is full.
        let (k, v) = unsafe { g.take(1, CTRL_EMPTY) };
        assert_eq!(k, 1);
        drop(v);
        assert_eq!(Rc::strong_count(&rc), 2);
        drop(GroupBox(Box::new(g)));
        assert_eq!(Rc::strong_count(&rc), 1);
    }
}
