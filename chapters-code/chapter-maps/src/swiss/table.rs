//! One Swiss table: a power-of-two array of groups, probed triangularly, at most 1024 slots.
//!
//! Go: internal/runtime/maps/table.go. A map keeps one table per directory range (see `map.rs`);
//! each table is a complete open-addressing hash table. Growing a table rebuilds only that table,
//! which bounds the pause of a single insert to copying at most 1024 slots.
//!
//! Functions here take the key comparison and the hasher as closures: the map owns the hasher
//! and the seed, and `Borrow<Q>` lookups compare against a `&Q`, not a `&K`.

use super::group::{Bitset, Group, CTRL_DELETED, CTRL_EMPTY, GROUP_SLOTS};
use super::{h1, h2};

/// Go: `maxTableCapacity`. A table that would grow beyond this splits instead.
pub const MAX_TABLE_CAPACITY: usize = 1024;

/// Go: `maxAvgGroupLoad`: at most 7 of every 8 slots may be used (or tombstoned).
pub const MAX_AVG_GROUP_LOAD: usize = 7;

// ANCHOR: probe_seq
/// The groups a probe visits, in order: `start, start+1, start+1+2, start+1+2+3, …` modulo the
/// number of groups.
///
/// Go: `probeSeq` / `makeProbeSeq` (table.go). The i-th term is `start + i(i+1)/2`; triangular
/// numbers modulo a power of two hit every residue exactly once in the first `n` steps, so a
/// probe sees every group once before it repeats, and no group is ever skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeSeq {
    pub mask: usize,
    pub offset: usize,
    pub index: usize,
}

impl ProbeSeq {
    /// Go: `makeProbeSeq(h1(hash), lengthMask)`.
    #[inline(always)]
    pub fn new(h1: u64, mask: usize) -> ProbeSeq {
        ProbeSeq {
            mask,
            offset: h1 as usize & mask,
            index: 0,
        }
    }

    /// Go: `probeSeq.next`: step `i` moves `i` groups further than step `i-1` did.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)] // Go's name; it is not an Iterator (it never ends)
    pub fn next(self) -> ProbeSeq {
        // ANCHOR: solution-probe_seq
        let index = self.index + 1;
        ProbeSeq {
            mask: self.mask,
            offset: (self.offset + index) & self.mask,
            index,
        }
        // ANCHOR_END: solution-probe_seq
    }
}
// ANCHOR_END: probe_seq

/// What `put_slot` found for a key. Go returns a pointer or `ok == false`; Rust returns where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutSlot {
    /// The key is present at (group, slot).
    Found(usize, usize),
    /// The key is absent; (group, slot) is free and budgeted: call [`Table::insert_at`].
    Vacant(usize, usize),
    /// No room: the caller must rehash (grow or split) this table and retry.
    Rehash,
}

/// A Swiss table. Go: `table` (table.go).
pub struct Table<K, V> {
    /// Go: `used`: full slots.
    pub used: u16,
    /// Go: `capacity`: slots, a power of two, at most [`MAX_TABLE_CAPACITY`].
    pub capacity: u16,
    /// Go: `growthLeft`: how many empty slots may still be filled before a rehash. Tombstones
    /// count as filled, so a table full of tombstones rehashes too.
    pub growth_left: u16,
    /// Go: `localDepth`: how many top hash bits the directory uses to reach this table.
    pub local_depth: u8,
    /// Go: `index`: the first directory entry pointing here, or -1 once replaced ("stale").
    pub index: isize,
    /// Identity for cursors: a fresh number for every table the map creates (Go compares
    /// pointers; Rust's tables move, so they carry a name).
    pub id: u64,
    /// Go: `groups`: `capacity / 8` groups.
    pub groups: Box<[Group<K, V>]>,
}

impl<K, V> Table<K, V> {
    /// Go: `newTable`: at least one group, capacity rounded up to a power of two.
    pub fn new(capacity: usize, index: isize, local_depth: u8, id: u64) -> Self {
        let capacity = capacity.max(GROUP_SLOTS);
        assert!(
            capacity <= MAX_TABLE_CAPACITY,
            "initial table capacity too large"
        );
        let capacity = capacity.next_power_of_two();
        let groups = (0..capacity / GROUP_SLOTS)
            .map(|_| Group::new_empty())
            .collect();
        Self::from_groups(groups, index, local_depth, id)
    }

    /// A table around existing groups (all empty, or a snapshot); counts are derived from them.
    pub fn from_groups(groups: Box<[Group<K, V>]>, index: isize, local_depth: u8, id: u64) -> Self {
        debug_assert!(groups.len().is_power_of_two());
        let capacity = (groups.len() * GROUP_SLOTS) as u16;
        let used: usize = groups.iter().map(|g| g.ctrl.match_full().count()).sum();
        let mut t = Table {
            used: used as u16,
            capacity,
            growth_left: 0,
            local_depth,
            index,
            id,
            groups,
        };
        t.growth_left = t.max_growth_left().saturating_sub(used as u16);
        t
    }

    /// Go: `maxGrowthLeft`: one group keeps one slot free (a probe needs an empty slot to
    /// stop); bigger tables fill to 7/8.
    #[inline]
    pub fn max_growth_left(&self) -> u16 {
        let cap = self.capacity as usize;
        if cap <= GROUP_SLOTS {
            (cap - 1) as u16
        } else {
            (cap * MAX_AVG_GROUP_LOAD / GROUP_SLOTS) as u16
        }
    }

    /// Go: `tombstones`: what the 7/8 budget lost to neither entries nor free slots.
    #[inline]
    pub fn tombstones(&self) -> u16 {
        let budget = (self.capacity as usize * MAX_AVG_GROUP_LOAD / GROUP_SLOTS) as u16;
        budget
            .wrapping_sub(self.used)
            .wrapping_sub(self.growth_left)
    }

    /// Go: `groups.lengthMask`.
    #[inline(always)]
    pub fn group_mask(&self) -> usize {
        self.groups.len() - 1
    }

    /// The group at probe offset `i`.
    #[inline(always)]
    fn group(&self, i: usize) -> &Group<K, V> {
        debug_assert!(i < self.groups.len());
        // SAFETY: every caller passes a `ProbeSeq` offset (masked by `group_mask`) or a loop
        // index below `groups.len()`; skipping the bounds check keeps the probe loop tight.
        unsafe { self.groups.get_unchecked(i) }
    }

    /// Go: `getWithKey`: the entry whose key satisfies `eq`, if any.
    #[inline]
    pub fn get(&self, hash: u64, mut eq: impl FnMut(&K) -> bool) -> Option<&(K, V)> {
        let mut seq = ProbeSeq::new(h1(hash), self.group_mask());
        let h2 = h2(hash);
        self.group(seq.offset).prefetch();
        loop {
            let g = self.group(seq.offset);
            for i in g.ctrl.match_h2(h2) {
                // SAFETY: `match_h2` only reports full slots.
                let kv = unsafe { g.slot(i) };
                if eq(&kv.0) {
                    return Some(kv);
                }
            }
            // A group with an empty slot ends the probe: the key would have been put there.
            if g.ctrl.match_empty().any() {
                return None;
            }
            seq = seq.next();
        }
    }

    /// Like [`Table::get`], but returns the (group, slot) position.
    #[inline]
    pub fn find(&self, hash: u64, mut eq: impl FnMut(&K) -> bool) -> Option<(usize, usize)> {
        let mut seq = ProbeSeq::new(h1(hash), self.group_mask());
        let h2 = h2(hash);
        self.group(seq.offset).prefetch();
        loop {
            let g = self.group(seq.offset);
            for i in g.ctrl.match_h2(h2) {
                // SAFETY: `match_h2` only reports full slots.
                if eq(unsafe { &g.slot(i).0 }) {
                    return Some((seq.offset, i));
                }
            }
            if g.ctrl.match_empty().any() {
                return None;
            }
            seq = seq.next();
        }
    }

    /// The entry at a position returned by `find`/`put_slot` as `Found`.
    #[inline(always)]
    pub fn entry_mut(&mut self, g: usize, i: usize) -> &mut (K, V) {
        let grp = &mut self.groups[g];
        assert!(
            grp.ctrl.get(i) & CTRL_EMPTY == 0,
            "entry_mut on a slot that is not full"
        );
        // SAFETY: just checked that slot `i` is full; `i < 8` because `get` shifts by 8i < 64
        // only for such positions (and `slot_mut` debug-asserts it).
        unsafe { grp.slot_mut(i) }
    }

    // ANCHOR: table_insert
    /// Finds `key`'s slot, or a free slot for it.
    ///
    /// Go: the probe of `(*table).PutSlot`. On the way it remembers the first tombstone: if the
    /// key is absent, reusing that tombstone costs no `growthLeft`. Tombstones only live in
    /// groups with no empty slot (a delete from a group with an empty slot empties it instead),
    /// so "the first free slot of this group is a tombstone" means "keep probing".
    /// With no budget left it first tries `pruneTombstones`, then asks for a rehash.
    #[inline]
    pub fn put_slot(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(&K) -> bool,
        hasher: impl Fn(&K) -> u64,
    ) -> PutSlot {
        let mut seq = ProbeSeq::new(h1(hash), self.group_mask());
        let h2 = h2(hash);
        let mut first_deleted: Option<(usize, usize)> = None;
        loop {
            let g = self.group(seq.offset);
            for i in g.ctrl.match_h2(h2) {
                // SAFETY: `match_h2` only reports full slots.
                if eq(unsafe { &g.slot(i).0 }) {
                    return PutSlot::Found(seq.offset, i);
                }
            }
            let free = g.ctrl.match_empty_or_deleted();
            if !free.any() {
                seq = seq.next(); // a full group: the key may be further on
                continue;
            }
            let i = free.first();
            if g.ctrl.get(i) == CTRL_DELETED {
                first_deleted.get_or_insert((seq.offset, i));
                seq = seq.next();
                continue;
            }
            // An empty slot: the end of the probe sequence, the key is absent.
            let mut at = (seq.offset, i);
            if let Some(d) = first_deleted {
                at = d;
                self.growth_left += 1; // reusing a tombstone is free; `insert_at` takes it back
            }
            if self.growth_left == 0 {
                self.prune_tombstones(&hasher);
            }
            if self.growth_left > 0 {
                return PutSlot::Vacant(at.0, at.1);
            }
            return PutSlot::Rehash;
        }
    }

    /// Fills the free slot `put_slot` returned. Go: the tail of `(*table).PutSlot`.
    #[inline]
    pub fn insert_at(&mut self, g: usize, i: usize, h2: u8, kv: (K, V)) {
        self.groups[g].put(i, h2, kv);
        self.growth_left -= 1;
        self.used += 1;
    }
    // ANCHOR_END: table_insert

    /// Inserts an entry known to be absent into a table known to have room and no tombstones:
    /// the first free slot on the probe wins. Go: `(*table).uncheckedPutSlot`, used by grow/split.
    #[inline]
    pub fn unchecked_put(&mut self, hash: u64, kv: (K, V)) {
        assert!(
            self.growth_left > 0,
            "invariant failed: growthLeft is unexpectedly 0"
        );
        let mut seq = ProbeSeq::new(h1(hash), self.group_mask());
        loop {
            let free = self.group(seq.offset).ctrl.match_empty_or_deleted();
            if free.any() {
                self.insert_at(seq.offset, free.first(), h2(hash), kv);
                return;
            }
            seq = seq.next();
        }
    }

    // ANCHOR: delete
    /// Removes the entry whose key satisfies `eq`; also reports whether a tombstone was left.
    ///
    /// Go: `(*table).Delete`. A group with an empty slot never lies in the middle of a probe
    /// sequence (probes stop there), so its slot can simply become empty again. A full group
    /// may be in the middle of other keys' probes: emptying a slot there would cut those probes
    /// short, so the slot becomes a tombstone (`ctrlDeleted`) that probes walk past.
    pub fn delete(&mut self, hash: u64, mut eq: impl FnMut(&K) -> bool) -> Option<((K, V), bool)> {
        let (g, i) = self.find(hash, &mut eq)?;
        let grp = &mut self.groups[g];
        let tombstone = !grp.ctrl.match_empty().any();
        let ctrl = if tombstone { CTRL_DELETED } else { CTRL_EMPTY };
        // SAFETY: `find` returned a full slot.
        let kv = unsafe { grp.take(i, ctrl) };
        if !tombstone {
            self.growth_left += 1;
        }
        self.used -= 1;
        Some((kv, tombstone))
    }
    // ANCHOR_END: delete

    /// Turns tombstones that no probe needs back into empty slots, when that frees at least 10%
    /// of the table; otherwise leaves the table alone and the caller grows it.
    ///
    /// Go: `(*table).pruneTombstones`. A tombstone group is needed if some key's probe sequence
    /// passes through it before reaching the key's own group: emptying it would end that probe
    /// too early. Groups with an empty slot already end probes and are left alone too. Only
    /// control bytes change (entries never move), which keeps iterators valid.
    pub fn prune_tombstones(&mut self, hasher: &impl Fn(&K) -> u64) {
        if (self.tombstones() as usize) * 10 < self.capacity as usize {
            return; // not worth an O(capacity) pass
        }
        const WORDS: usize = (MAX_TABLE_CAPACITY / GROUP_SLOTS).div_ceil(32);
        let mut needed = [0u32; WORDS];
        let mask = self.group_mask();
        for i in 0..=mask {
            let g = self.group(i);
            for j in g.ctrl.match_full() {
                // Go skips keys that are not equal to themselves (NaN): they can never be looked
                // up. Rust's `Eq` is reflexive, so every key's probe must stay intact.
                // SAFETY: `j` is a full slot.
                let hash = hasher(unsafe { &g.slot(j).0 });
                let mut seq = ProbeSeq::new(h1(hash), mask);
                while seq.offset != i {
                    // Not the key's group yet, and the probe went on, so any free slot here
                    // is a tombstone this probe relies on.
                    if self.group(seq.offset).ctrl.match_empty_or_deleted().any() {
                        needed[seq.offset / 32] |= 1 << (seq.offset % 32);
                    }
                    seq = seq.next();
                }
            }
            if g.ctrl.match_empty().any() {
                needed[i / 32] |= 1 << (i % 32);
            }
        }
        let is_needed = |i: usize| needed[i / 32] >> (i % 32) & 1 != 0;
        let removable: usize = (0..=mask)
            .filter(|&i| !is_needed(i))
            .map(|i| self.group(i).ctrl.match_empty_or_deleted().count())
            .sum();
        if removable * 10 < self.capacity as usize {
            return; // cannot restore 10% of capacity: growing is the better deal
        }
        for i in 0..=mask {
            if is_needed(i) {
                continue;
            }
            let g = &mut self.groups[i];
            for k in g.ctrl.match_empty_or_deleted() {
                g.ctrl.set(k, CTRL_EMPTY);
                self.growth_left += 1;
            }
        }
    }

    /// Drops every entry and empties every slot, keeping the allocation. Go: `(*table).Clear`.
    pub fn clear(&mut self) {
        let max = self.max_growth_left();
        if self.used == 0 && self.growth_left == max {
            return; // no entries and no tombstones
        }
        for g in self.groups.iter_mut() {
            g.clear();
        }
        self.used = 0;
        self.growth_left = max;
    }

    /// Moves every entry out, handing each to `sink` with its hash; the table ends up with no
    /// full slot. The hash is computed before the entry leaves its slot, so a panicking `Hash`
    /// leaves every entry owned by exactly one table. Go: the loops of `grow` and `split`.
    pub fn drain_into(&mut self, hasher: impl Fn(&K) -> u64, mut sink: impl FnMut(u64, (K, V))) {
        for g in self.groups.iter_mut() {
            for j in g.ctrl.match_full() {
                // SAFETY: `j` is full until `take` marks it empty.
                let hash = hasher(unsafe { &g.slot(j).0 });
                // SAFETY: still full; `take` marks it empty before handing the entry over.
                let kv = unsafe { g.take(j, CTRL_EMPTY) };
                sink(hash, kv);
            }
        }
        self.used = 0;
    }

    /// A key-only copy of this table with the same layout, marked stale (`index == -1`).
    /// Used so a cursor can keep walking the table's old order after a grow or split.
    pub fn snapshot_keys(&self) -> Table<K, ()>
    where
        K: Clone,
    {
        let groups: Box<[Group<K, ()>]> = self.groups.iter().map(|g| g.snapshot_keys()).collect();
        Table::from_groups(groups, -1, self.local_depth, self.id)
    }

    /// Every full slot's position, group by group.
    pub fn full_slots(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.groups
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| g.ctrl.match_full().map(move |i| (gi, i)))
    }

    /// The entry at a full position.
    #[inline]
    pub fn entry(&self, g: usize, i: usize) -> &(K, V) {
        let grp = &self.groups[g];
        assert!(
            grp.ctrl.get(i) & CTRL_EMPTY == 0,
            "entry on a slot that is not full"
        );
        // SAFETY: checked full just above.
        unsafe { grp.slot(i) }
    }

    /// The full slots of group `g`.
    #[inline(always)]
    pub fn full_in(&self, g: usize) -> Bitset {
        self.groups[g].ctrl.match_full()
    }
}

impl<K, V> Drop for Table<K, V> {
    fn drop(&mut self) {
        if std::mem::needs_drop::<(K, V)>() {
            for g in self.groups.iter_mut() {
                g.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swiss::group::Ctrl;

    /// A toy hasher: keys are their own hashes.
    fn id(k: &u64) -> u64 {
        *k
    }

    fn put(t: &mut Table<u64, u64>, k: u64) -> PutSlot {
        let r = t.put_slot(k, |x| *x == k, id);
        if let PutSlot::Vacant(g, i) = r {
            t.insert_at(g, i, h2(k), (k, k.wrapping_mul(10)));
        }
        r
    }

    /// The hash whose probe starts at group `g` with H2 `h2` (H1 = hash >> 7).
    fn hash_at(g: u64, h2: u64, salt: u64) -> u64 {
        (salt << 20) | (g << 7) | h2
    }

    #[test]
    fn probe_sequence_visits_every_group_exactly_once() {
        for groups in [1usize, 2, 4, 8, 16, 128] {
            for start in [0u64, 1, 5, 77, u64::MAX] {
                let mut seen = vec![0u32; groups];
                let mut s = ProbeSeq::new(start, groups - 1);
                for _ in 0..groups {
                    seen[s.offset] += 1;
                    s = s.next();
                }
                assert!(
                    seen.iter().all(|&c| c == 1),
                    "{groups} groups from {start}: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn probe_sequence_is_triangular() {
        let mut s = ProbeSeq::new(3, 15);
        let offsets: Vec<usize> = (0..6)
            .map(|_| {
                let o = s.offset;
                s = s.next();
                o
            })
            .collect();
        // 3, 3+1, 3+1+2, 3+1+2+3, … modulo 16.
        assert_eq!(offsets, vec![3, 4, 6, 9, 13, 2]);
    }

    #[test]
    fn new_table_rounds_capacity_and_budgets_seven_eighths() {
        let t = Table::<u64, u64>::new(10, 0, 0, 0);
        assert_eq!((t.capacity, t.groups.len(), t.growth_left), (16, 2, 14));
        let t = Table::<u64, u64>::new(1, 0, 0, 0);
        assert_eq!(
            (t.capacity, t.growth_left),
            (8, 7),
            "one group keeps one slot empty"
        );
        let t = Table::<u64, u64>::new(1024, 0, 0, 0);
        assert_eq!((t.capacity, t.growth_left, t.tombstones()), (1024, 896, 0));
    }

    #[test]
    fn colliding_keys_spill_along_the_probe_sequence() {
        let mut t = Table::<u64, u64>::new(32, 0, 0, 0); // 4 groups
        let keys: Vec<u64> = (0..12).map(|s| hash_at(1, 5, s)).collect();
        for &k in &keys {
            assert!(matches!(put(&mut t, k), PutSlot::Vacant(..)));
        }
        // 8 land in group 1, the rest in group 1+1 = 2.
        assert_eq!(t.full_in(1).count(), 8);
        assert_eq!(t.full_in(2).count(), 4);
        for &k in &keys {
            assert_eq!(t.get(k, |x| *x == k).map(|kv| kv.1), Some(k * 10));
        }
        assert_eq!(put(&mut t, keys[3]), PutSlot::Found(1, 3));
        assert!(t
            .get(hash_at(1, 5, 99), |x| *x == hash_at(1, 5, 99))
            .is_none());
    }

    #[test]
    fn delete_empties_a_slot_when_the_group_has_room_else_leaves_a_tombstone() {
        let mut t = Table::<u64, u64>::new(16, 0, 0, 0); // 2 groups
        let full: Vec<u64> = (0..8).map(|s| hash_at(0, 3, s)).collect();
        for &k in &full {
            put(&mut t, k);
        }
        let roomy = hash_at(1, 4, 0);
        put(&mut t, roomy);
        assert_eq!(t.growth_left, 14 - 9);

        let (kv, tomb) = t.delete(roomy, |x| *x == roomy).unwrap();
        assert_eq!((kv, tomb), ((roomy, roomy * 10), false));
        assert_eq!(t.full_in(1).count(), 0);
        assert_eq!(t.groups[1].ctrl, Ctrl::EMPTY);
        assert_eq!((t.growth_left, t.tombstones()), (14 - 8, 0));

        let (_, tomb) = t.delete(full[2], |x| *x == full[2]).unwrap();
        assert!(tomb, "group 0 was full, so a probe may pass through it");
        assert_eq!(t.groups[0].ctrl.get(2), CTRL_DELETED);
        assert_eq!((t.used, t.growth_left, t.tombstones()), (7, 6, 1));
        // Keys behind the tombstone are still found; the deleted one is not.
        for &k in &full {
            assert_eq!(t.get(k, |x| *x == k).is_some(), k != full[2]);
        }
        assert!(t.delete(full[2], |x| *x == full[2]).is_none());
    }

    #[test]
    fn insert_reuses_the_first_tombstone_without_spending_growth() {
        let mut t = Table::<u64, u64>::new(16, 0, 0, 0);
        let full: Vec<u64> = (0..8).map(|s| hash_at(0, 3, s)).collect();
        for &k in &full {
            put(&mut t, k);
        }
        t.delete(full[5], |x| *x == full[5]).unwrap();
        let gl = t.growth_left;
        let newcomer = hash_at(0, 6, 1);
        assert_eq!(put(&mut t, newcomer), PutSlot::Vacant(0, 5));
        assert_eq!((t.growth_left, t.tombstones()), (gl, 0));
    }

    #[test]
    fn prune_tombstones_clears_only_tombstones_no_probe_needs() {
        // 16 groups (128 slots). Group 0: full of keys homed at group 0, then all deleted → 8
        // tombstones nobody needs. Group 3: full of keys homed at group 3, one deleted; one key
        // homed at group 3 spilled into group 4 → group 3's tombstone is needed.
        let mut t = Table::<u64, u64>::new(128, 0, 0, 0);
        let g0: Vec<u64> = (0..8).map(|s| hash_at(0, 1, s)).collect();
        let g3: Vec<u64> = (0..9).map(|s| hash_at(3, 2, s)).collect();
        for &k in g0.iter().chain(&g3) {
            put(&mut t, k);
        }
        assert_eq!(t.full_in(4).count(), 1, "the 9th key spilled to group 3+1");
        for &k in &g0 {
            t.delete(k, |x| *x == k).unwrap();
        }
        t.delete(g3[0], |x| *x == g3[0]).unwrap();
        assert_eq!(t.tombstones(), 9);
        // 9 * 10 < 128: not worth an O(capacity) pass yet.
        t.prune_tombstones(&id);
        assert_eq!(t.tombstones(), 9);
        // Five more unneeded tombstones in group 7 (filled, then partly deleted).
        let g7: Vec<u64> = (0..8).map(|s| hash_at(7, 9, s)).collect();
        for &k in &g7 {
            put(&mut t, k);
        }
        for &k in &g7[..5] {
            t.delete(k, |x| *x == k).unwrap();
        }
        assert_eq!(t.tombstones(), 14);
        t.prune_tombstones(&id);
        assert_eq!(
            t.tombstones(),
            1,
            "only group 3's needed tombstone survives"
        );
        assert_eq!(t.groups[0].ctrl, Ctrl::EMPTY);
        assert_eq!(t.groups[3].ctrl.get(0), CTRL_DELETED);
        for &k in g3[1..].iter().chain(&g7[5..]) {
            assert!(t.get(k, |x| *x == k).is_some(), "{k:#x} lost");
        }
    }

    #[test]
    fn prune_does_nothing_when_every_tombstone_is_needed() {
        let mut t = Table::<u64, u64>::new(16, 0, 0, 0);
        // Group 0 full + 3 spilled into group 1; delete 4 from group 0 → 4 needed tombstones.
        let ks: Vec<u64> = (0..11).map(|s| hash_at(0, 1, s)).collect();
        for &k in &ks {
            put(&mut t, k);
        }
        for &k in &ks[..4] {
            t.delete(k, |x| *x == k).unwrap();
        }
        assert_eq!(t.tombstones(), 4);
        t.prune_tombstones(&id);
        assert_eq!(t.tombstones(), 4);
        for &k in &ks[4..] {
            assert!(t.get(k, |x| *x == k).is_some());
        }
    }

    #[test]
    fn put_slot_asks_for_a_rehash_when_the_budget_is_spent() {
        let mut t = Table::<u64, u64>::new(16, 0, 0, 0);
        for k in 0..14u64 {
            let h = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            assert!(matches!(put(&mut t, h), PutSlot::Vacant(..)));
        }
        assert_eq!(t.growth_left, 0);
        assert_eq!(put(&mut t, 12345), PutSlot::Rehash);
        assert_eq!(t.used, 14, "14 of 16 slots: load 7/8");
    }

    #[test]
    fn drain_moves_every_entry_once_and_drop_drops_the_rest() {
        use std::rc::Rc;
        let rc = Rc::new(());
        let mut t = Table::<u64, Rc<()>>::new(64, 0, 0, 0);
        for k in 0..40u64 {
            let h = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            match t.put_slot(h, |x| *x == h, id) {
                PutSlot::Vacant(g, i) => t.insert_at(g, i, h2(h), (h, rc.clone())),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(Rc::strong_count(&rc), 41);
        let mut moved = Vec::new();
        t.drain_into(id, |h, kv| moved.push((h, kv)));
        assert_eq!(moved.len(), 40);
        assert!(moved.iter().all(|(h, kv)| *h == kv.0));
        drop(t);
        assert_eq!(Rc::strong_count(&rc), 41, "the drained table owns nothing");
        drop(moved);
        assert_eq!(Rc::strong_count(&rc), 1);
    }
}
