//! Iteration in Go's randomised order, and a cursor that tolerates writes between steps.
//!
//! Go: `Iter` (internal/runtime/maps/table.go). Every iteration draws two random numbers: a
//! directory offset (which table to start with) and an entry offset (which slot to start at in
//! every table). Tables are walked in directory order from the offset, each once, however many
//! directory entries name it; within a table, slots are visited from `entryOffset` onwards,
//! wrapping around.
//!
//! Two iterators share that order:
//!
//! - [`Iter`] borrows the map, so nothing can change under it: it walks the groups with
//!   `match_full` bitsets and is as fast as a plain array scan.
//! - [`Cursor`] does not borrow the map between steps (`cursor.next(&map)`), so the map can be
//!   modified while ranging, as Go allows. It keeps Go's guarantees: no key is returned twice
//!   (unless deleted and re-created), a key deleted before it is reached is not returned, a
//!   key updated before it is reached is returned with its new value, and every key present
//!   throughout is returned exactly once. New keys may or may not appear.
//!
//! # How the cursor follows a table that grows or splits
//!
//! Go's iterator keeps a pointer to the table it walks. When that table grows or splits, the
//! map installs new tables, but the iterator keeps walking the *old* one (the garbage collector
//! keeps it alive), because only the old layout tells it which keys it has already returned.
//! For each key it finds there, it looks the key up in the live map, returning the current
//! value or skipping the key if it was deleted since.
//!
//! In Rust the old table cannot outlive its entries' move into the new one. So while any
//! cursor is alive, the map keeps a key-only copy (same control words, same slots) of every
//! table it replaces (`SwissMap::retired`); a cursor whose table has been replaced walks that
//! copy and re-looks up each key, exactly as Go does. The copies cost a `K: Clone` per key of
//! a replaced table and are freed at the next grow or clear after the last cursor is dropped.
//! Tables carry ids so that a cursor can tell "still the table I started" from "a new table in
//! the same place". The cursor owns no table and no entry, so it needs no `unsafe`, and using
//! it with a different map panics rather than misbehaves.

use std::hash::{BuildHasher, Hash};
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::sync::Arc;

use super::group::{Bitset, Group, CTRL_EMPTY, GROUP_SLOTS};
use super::map::SwissMap;
use super::rand;
use super::table::Table;

/// A borrowing iterator over `(&K, &V)` in Go's randomised order. See [`SwissMap::iter`].
pub struct Iter<'a, K, V> {
    tables: &'a [Table<K, V>],
    directory: &'a [u32],
    global_depth: u8,
    remaining: usize,
    entry_offset: u64,
    dir_offset: u64,
    /// Go: `dirIdx`, the next directory position to visit (before `dirOffset`).
    dir_idx: usize,
    /// The groups of the table being walked (the small map's one group, for a small map).
    groups: &'a [Group<K, V>],
    /// The first slot visited in this table: `entryOffset & (capacity - 1)`.
    start: usize,
    /// Next group step: 0 is the start group from `start`, 1.. the following groups, and
    /// `groups.len()` the start group again, for the slots below `start`.
    step: usize,
    cur_group: usize,
    bits: Bitset,
}

impl<'a, K, V> Iter<'a, K, V> {
    pub(crate) fn new<S>(m: &'a SwissMap<K, V, S>) -> Self {
        let entry_offset = if m.used == 0 { 0 } else { rand() };
        let mut it = Iter {
            tables: &m.tables,
            directory: &m.directory,
            global_depth: m.global_depth,
            remaining: m.used,
            entry_offset,
            dir_offset: if m.used == 0 { 0 } else { rand() },
            dir_idx: 0,
            groups: &[],
            start: 0,
            step: 1, // past the end of the (empty) current table: the first step loads one
            cur_group: 0,
            bits: Bitset(0),
        };
        if let (true, Some(small)) = (m.directory.is_empty(), m.small.as_ref()) {
            // Go: a small map is walked from `entryOffset % 8`.
            it.groups = std::slice::from_ref(&*small.0);
            it.start = (entry_offset % GROUP_SLOTS as u64) as usize;
            it.step = 0;
        }
        it
    }

    /// Loads the next group's full slots, or moves on to the next table.
    #[inline]
    fn advance(&mut self) {
        let n = self.groups.len();
        if self.step <= n {
            let j = self.step;
            self.step += 1;
            let (sg, so) = (self.start / GROUP_SLOTS, self.start % GROUP_SLOTS);
            let gi = (sg + j) & (n - 1);
            // Not in Go: start fetching the group two steps ahead, so that the walk does not
            // stall on each table's cache lines in turn (a hint; no effect on the order).
            self.groups[(gi + 2) & (n - 1)].prefetch_all();
            let g = &self.groups[gi];
            let mut bits = g.ctrl.match_full();
            if j == 0 {
                bits = bits.remove_below(so);
            } else if j == n {
                bits = bits.keep_below(so);
            }
            self.cur_group = gi;
            self.bits = bits;
        } else {
            self.next_table();
        }
    }

    /// Go: resolving `it.tab` and `nextDirIdx`: the next table in directory order, skipping the
    /// other entries that name the same table.
    #[cold]
    fn next_table(&mut self) {
        let len = self.directory.len();
        if self.dir_idx >= len {
            self.remaining = 0; // only reachable if `used` disagreed with the tables
            return;
        }
        let d = (self.dir_idx as u64).wrapping_add(self.dir_offset) as usize & (len - 1);
        let t = &self.tables[self.directory[d] as usize];
        let first = t.index as usize;
        if first != d {
            // Only on the first table: the random offset landed mid-run; start at its first entry.
            self.dir_offset = self.dir_offset.wrapping_sub((d - first) as u64);
        }
        self.dir_idx += 1 << (self.global_depth - t.local_depth);
        self.groups = &t.groups;
        self.start = (self.entry_offset & (t.capacity as u64 - 1)) as usize;
        self.step = 0;
        self.bits = Bitset(0);
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        loop {
            if let Some(i) = self.bits.next() {
                // SAFETY: `bits` is a subset of `match_full` of group `cur_group` of a table the
                // shared borrow keeps unchanged, so slot `i` is initialised.
                let kv = unsafe { self.groups.get_unchecked(self.cur_group).slot(i) };
                self.remaining -= 1;
                return Some((&kv.0, &kv.1));
            }
            if self.remaining == 0 {
                return None;
            }
            self.advance();
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

/// Which table a cursor walks: the live one with this id, or a retired key-only copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    Live(u64),
    Retired(usize),
}

/// A detached iterator: the map may be modified between calls to [`Cursor::next`].
///
/// ```
/// # use chapter_maps::SwissMap;
/// let mut m: SwissMap<u64, u64> = (0..100).map(|k| (k, k)).collect();
/// let mut it = m.cursor();
/// while let Some((&k, _)) = it.next(&m) {
///     if k % 2 == 0 {
///         m.remove(&(k + 1)); // deleted before it is reached: never returned
///     }
///     m.insert(1000 + k, 0); // new keys may or may not be returned
/// }
/// ```
///
/// Go: `Iter` used by a `for range` loop whose body writes to the map. See the [module
/// docs](self) for how it survives grows and splits.
#[derive(Debug)]
pub struct Cursor<K, V> {
    /// Names the map and keeps its "a cursor is alive" count up. `None`: the map was empty.
    token: Option<Arc<()>>,
    entry_offset: u64,
    dir_offset: u64,
    /// Go: `globalDepth` as of the last step, to rescale indexes after directory growth.
    global_depth: u8,
    /// Go: `dirIdx`; -1 for a map that was small when the cursor started.
    dir_idx: isize,
    /// Go: `tab`.
    tab: Option<Walk>,
    /// Go: `entryIdx`.
    entry_idx: u64,
    _entries: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Cursor<K, V> {
    pub(crate) fn empty() -> Self {
        Cursor {
            token: None,
            entry_offset: 0,
            dir_offset: 0,
            global_depth: 0,
            dir_idx: 0,
            tab: None,
            entry_idx: 0,
            _entries: PhantomData,
        }
    }

    /// Go: `Iter.Init`.
    pub(crate) fn new<S>(m: &SwissMap<K, V, S>, token: Arc<()>) -> Self {
        let small = m.directory.is_empty();
        Cursor {
            token: Some(token),
            entry_offset: rand(),
            dir_offset: rand(),
            global_depth: m.global_depth,
            dir_idx: if small { -1 } else { 0 },
            tab: if small {
                Some(Walk::Live(m.small_id))
            } else {
                None
            },
            entry_idx: 0,
            _entries: PhantomData,
        }
    }

    /// Next full slot of `groups` in Go's order from `entry_idx`: `(entry_idx + entry_offset)
    /// & (capacity - 1)` (for a small map the same as Go's `% 8`).
    fn scan<W>(&mut self, groups: &[Group<K, W>]) -> Option<(usize, usize)> {
        let mask = (groups.len() * GROUP_SLOTS - 1) as u64;
        while self.entry_idx <= mask {
            let e = (self.entry_idx.wrapping_add(self.entry_offset) & mask) as usize;
            self.entry_idx += 1;
            let (g, s) = (e / GROUP_SLOTS, e % GROUP_SLOTS);
            if groups[g].ctrl.get(s) & CTRL_EMPTY == 0 {
                return Some((g, s));
            }
        }
        None
    }

    fn retired_at<S>(m: &SwissMap<K, V, S>, id: u64) -> usize {
        m.retired
            .iter()
            .position(|t| t.id == id)
            .expect("a table replaced while a cursor was alive has a retired copy")
    }

    // ANCHOR: iter_step
    /// The next entry, read from `m` as it is now. Go: `Iter.Next`.
    ///
    /// # Panics
    /// If `m` is not the map this cursor was made from.
    pub fn next<'m, S>(&mut self, m: &'m SwissMap<K, V, S>) -> Option<(&'m K, &'m V)>
    where
        K: Hash + Eq,
        S: BuildHasher,
    {
        let token = self.token.as_ref()?; // the map was empty at the start: nothing, ever
        assert!(
            m.hook.get().is_some_and(|h| Arc::ptr_eq(&h.token, token)),
            "a Cursor must be used with the map that created it"
        );
        m.check_iter();

        if self.dir_idx < 0 {
            // Small when we started. A map never becomes small again, so "still small" means
            // "still the same group".
            if m.directory.is_empty() {
                let g = &m.small.as_ref()?.0;
                let (_, s) = self.scan(std::slice::from_ref(&**g))?;
                // SAFETY: `scan` only returns full slots.
                let kv = unsafe { g.slot(s) };
                return Some((&kv.0, &kv.1));
            }
            // Grown to a table since: walk the old group's copy, look each key up afresh.
            let at = match self.tab {
                Some(Walk::Retired(at)) => at,
                Some(Walk::Live(id)) => Self::retired_at(m, id),
                None => unreachable!("a small-map cursor starts with its group"),
            };
            self.tab = Some(Walk::Retired(at));
            let old = &m.retired[at];
            while let Some((g, s)) = self.scan(&old.groups) {
                if let Some(kv) = m.get_key_value(&old.entry(g, s).0) {
                    return Some(kv);
                }
            }
            return None;
        }

        if self.global_depth != m.global_depth {
            // The directory doubled (maybe more than once): entry i is now entry i << orders,
            // and `(dir_idx + dir_offset) mod len` scales the same way.
            let orders = m.global_depth - self.global_depth;
            self.dir_idx <<= orders;
            self.dir_offset <<= orders;
            self.global_depth = m.global_depth;
        }

        let len = m.directory.len() as u64;
        while (self.dir_idx as u64) < len {
            let d = ((self.dir_idx as u64).wrapping_add(self.dir_offset) & (len - 1)) as usize;
            if self.tab.is_none() {
                let t = m.directory_at(d);
                if t.index as usize != d {
                    // First table only: start at the first entry of the run the offset hit.
                    self.dir_offset = self.dir_offset.wrapping_sub((d - t.index as usize) as u64);
                    continue;
                }
                self.tab = Some(Walk::Live(t.id));
            }
            let local_depth = match self.tab.expect("resolved above") {
                Walk::Live(id) => {
                    let t = m.directory_at(d);
                    if t.id != id {
                        // Go: `it.tab.index == -1`: our table grew or split since the last step.
                        self.tab = Some(Walk::Retired(Self::retired_at(m, id)));
                        continue;
                    }
                    if let Some((g, s)) = self.scan(&t.groups) {
                        let kv = t.entry(g, s);
                        return Some((&kv.0, &kv.1));
                    }
                    t.local_depth
                }
                Walk::Retired(at) => {
                    // Keep the old order (it says which keys we have returned); take the
                    // values, and the verdict "still there?", from the live map.
                    let old = &m.retired[at];
                    while let Some((g, s)) = self.scan(&old.groups) {
                        if let Some(kv) = m.get_key_value(&old.entry(g, s).0) {
                            return Some(kv);
                        }
                    }
                    old.local_depth
                }
            };
            // Go: `nextDirIdx`: skip every entry the walked table covered. For a retired table
            // that is its old range, now held by the tables it split into.
            self.dir_idx += 1 << (m.global_depth - local_depth);
            self.tab = None;
            self.entry_idx = 0;
        }
        None
    }
    // ANCHOR_END: iter_step
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    type M = SwissMap<u64, u64>;

    fn filled(n: u64) -> M {
        (0..n).map(|k| (k, k * 10)).collect()
    }

    fn collect_cursor(m: &M) -> Vec<u64> {
        let mut it = m.cursor();
        let mut out = vec![];
        while let Some((&k, _)) = it.next(m) {
            out.push(k);
        }
        out
    }

    #[test]
    fn iter_and_cursor_visit_every_entry_once() {
        let sizes: &[u64] = if cfg!(miri) {
            &[0, 1, 7, 8, 9, 100]
        } else {
            &[0, 1, 7, 8, 9, 100, 1000, 3000]
        };
        for &n in sizes {
            let m = filled(n);
            let mut a: Vec<u64> = m
                .iter()
                .map(|(&k, &v)| {
                    assert_eq!(v, k * 10);
                    k
                })
                .collect();
            assert_eq!(m.iter().len(), n as usize);
            a.sort_unstable();
            assert_eq!(a, (0..n).collect::<Vec<_>>(), "iter, n = {n}");
            let mut b = collect_cursor(&m);
            b.sort_unstable();
            assert_eq!(b, (0..n).collect::<Vec<_>>(), "cursor, n = {n}");
        }
    }

    #[test]
    fn iter_follows_gos_slot_order_from_the_entry_offset() {
        // Same offsets → the borrowing iterator and the cursor (a literal port of Go's
        // entryIdx loop) produce the same sequence.
        let sizes: &[u64] = if cfg!(miri) { &[5, 60] } else { &[5, 60, 2500] };
        for &n in sizes {
            let m = filled(n);
            let mut it = m.iter();
            let token = m.hook.get_or_init(|| crate::swiss::map::CursorHook {
                token: Arc::new(()),
                snapshot_table: Table::snapshot_keys,
                snapshot_group: Group::snapshot_keys,
            });
            let mut c = Cursor::new(&m, token.token.clone());
            c.entry_offset = it.entry_offset;
            c.dir_offset = it.dir_offset;
            let mut a = vec![];
            while let Some((&k, _)) = c.next(&m) {
                a.push(k);
            }
            let b: Vec<u64> = it.by_ref().map(|(&k, _)| k).collect();
            assert_eq!(a, b, "n = {n}");
        }
    }

    #[test]
    fn first_key_is_uniform_over_slots_chi_square() {
        // P(first key = k) = (1 + empty slots just before k's slot, cyclically) / capacity,
        // because the start slot is uniform. Compare observed counts with exactly that.
        let m = filled(100);
        let t = &m.tables[0];
        let cap = t.capacity as usize;
        let full: Vec<usize> = t.full_slots().map(|(g, s)| g * 8 + s).collect();
        let mut expected: HashMap<u64, f64> = HashMap::new();
        for (j, &slot) in full.iter().enumerate() {
            let prev = full[(j + full.len() - 1) % full.len()];
            let gap = (slot + cap - prev - 1) % cap;
            let k = t.entry(slot / 8, slot % 8).0;
            expected.insert(k, (gap + 1) as f64 / cap as f64);
        }
        let trials = if cfg!(miri) { 300 } else { 20_000 };
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for _ in 0..trials {
            *seen.entry(*m.iter().next().unwrap().0).or_default() += 1;
        }
        let chi2: f64 = expected
            .iter()
            .map(|(k, p)| {
                let e = p * trials as f64;
                let o = *seen.get(k).unwrap_or(&0) as f64;
                (o - e) * (o - e) / e
            })
            .sum();
        // 99 degrees of freedom: mean 99, sd 14. The bound is ~14 sd out: it never flakes,
        // and a broken offset (say, always slot 0) gives chi2 in the thousands.
        if !cfg!(miri) {
            assert!(chi2 < 300.0, "chi2 = {chi2}");
        }
        assert!(seen.len() > if cfg!(miri) { 30 } else { 95 });
    }

    #[test]
    fn cursor_survives_growth_from_small_to_table() {
        let mut m = filled(8);
        let mut it = m.cursor();
        let mut out = HashSet::new();
        let (&k0, _) = it.next(&m).unwrap();
        out.insert(k0);
        for k in 100..200 {
            m.insert(k, 0); // the 9th insert grows the map; the cursor keeps the old group
        }
        assert!(!m.shape().small);
        m.remove(&((k0 + 1) % 8)); // maybe not reached yet: must then not be returned
        m.insert((k0 + 2) % 8, 777);
        while let Some((&k, &v)) = it.next(&m) {
            assert!(out.insert(k), "{k} twice");
            if k == (k0 + 2) % 8 {
                assert_eq!(v, 777, "the updated value");
            }
        }
        assert!(
            !out.contains(&((k0 + 1) % 8)),
            "deleted before it was reached"
        );
        for k in 0..8 {
            if k != (k0 + 1) % 8 {
                assert!(out.contains(&k), "{k} missing");
            }
        }
        assert!(
            out.iter().all(|k| *k < 8),
            "the old group holds no new keys"
        );
    }

    #[test]
    fn cursor_walks_the_old_table_after_a_split_and_sees_updates() {
        let n = if cfg!(miri) { 200 } else { 890 };
        let mut m = filled(n);
        let mut it = m.cursor();
        let mut out = HashMap::new();
        for _ in 0..n / 3 {
            let (&k, &v) = it.next(&m).unwrap();
            out.insert(k, v);
        }
        // Grow/split the tables under the cursor, update and delete old keys.
        let extra = if cfg!(miri) { 600 } else { 2000 };
        for k in 10_000..10_000 + extra {
            m.insert(k, 1);
        }
        assert!(!m.retired.is_empty(), "the cursor's table was kept");
        for k in 0..n {
            if k % 3 == 0 {
                m.insert(k, 5);
            } else if k % 3 == 1 && !out.contains_key(&k) {
                m.remove(&k);
            }
        }
        while let Some((&k, &v)) = it.next(&m) {
            assert!(out.insert(k, v).is_none(), "{k} twice");
            if k < n {
                assert_ne!(k % 3, 1, "{k} was deleted before it was reached");
                if k % 3 == 0 {
                    assert_eq!(v, 5, "{k}: latest value");
                }
            }
        }
        for k in 0..n {
            if k % 3 != 1 {
                assert!(out.contains_key(&k), "{k} missing");
            }
        }
        drop(it);
        m.insert(99_999, 0); // growth after the last cursor frees the retired copies
        for k in 20_000..20_000 + extra {
            m.insert(k, 1);
        }
        assert!(m.retired.is_empty());
    }

    #[test]
    #[should_panic(expected = "the map that created it")]
    fn cursor_rejects_another_map() {
        let a = filled(3);
        let b = filled(3);
        let _ = b.cursor();
        let mut it = a.cursor();
        it.next(&b);
    }

    #[test]
    fn cursor_after_clear_returns_only_new_keys() {
        let mut m = filled(50);
        let mut it = m.cursor();
        it.next(&m).unwrap();
        m.clear();
        m.insert(7, 1);
        while let Some((&k, &v)) = it.next(&m) {
            assert_eq!((k, v), (7, 1));
        }
        let empty = M::new();
        let mut it = empty.cursor();
        assert!(it.next(&empty).is_none());
    }
}
