//! The tiny allocator: pointer-free objects under 16 bytes share 16-byte blocks (Go:
//! mallocgcTiny in malloc.go). Strings, small byte slices and escaping integers are mostly
//! this small; packing them saves memory and allocator calls. The price: a block is freed
//! only when every object in it is dead, which is why only pointer-free objects may share.

/// Go: maxTinySize.
pub const MAX_TINY_SIZE: usize = 16;

/// Go: mcache.tiny and mcache.tinyoffset: the current block and how much of it is used.
#[derive(Clone, Debug, Default)]
pub struct Tiny {
    pub tiny: Option<usize>,
    pub tinyoffset: usize,
}

impl Tiny {
    // ANCHOR: tiny_alloc
    /// Go: mallocgcTiny. Place `size` bytes (1..16, no pointers) in the current block, aligned
    /// to what the size allows; otherwise take a new block from `new_block` (a 16-byte object
    /// of the tiny span class) — and keep whichever block has more room left.
    pub fn alloc(&mut self, size: usize, new_block: &mut dyn FnMut() -> usize) -> usize {
        debug_assert!(size > 0 && size < MAX_TINY_SIZE);
        let mut off = self.tinyoffset;
        // Align as the size suggests: a multiple of 8 may hold a uint64, of 4 a uint32, ...
        if size & 7 == 0 {
            off = off.next_multiple_of(8);
        } else if size & 3 == 0 {
            off = off.next_multiple_of(4);
        } else if size & 1 == 0 {
            off = off.next_multiple_of(2);
        }
        if let Some(tiny) = self.tiny {
            if off + size <= MAX_TINY_SIZE {
                self.tinyoffset = off + size;
                return tiny + off; // fits in the current block
            }
        }
        let x = new_block();
        // The new block becomes the current one only if it leaves more room.
        if size < self.tinyoffset || self.tiny.is_none() {
            self.tiny = Some(x);
            self.tinyoffset = size;
        }
        x
    }
    // ANCHOR_END: tiny_alloc
}

/// The 16-byte blocks a fresh mcache's tiny allocator takes for `sizes`: what HeapAlloc
/// counts for them (`go/memstats` measures it).
pub fn blocks_for(sizes: &[usize]) -> usize {
    let mut blocks = 0;
    let mut new_block = || {
        blocks += 1;
        blocks * MAX_TINY_SIZE
    };
    let mut t = Tiny {
        tiny: None,
        tinyoffset: 0,
    };
    for &n in sizes {
        t.alloc(n, &mut new_block);
    }
    blocks
}

/// Replays a sequence of sizes the way `go/tiny` does: start in a fresh block with one byte
/// used, and report each object's block (numbered in order of first use) and offset.
pub fn replay(sizes: &[usize]) -> Vec<(usize, usize, usize)> {
    let mut next = 0usize;
    let mut new_block = || {
        next += 1;
        next * MAX_TINY_SIZE
    };
    let mut t = Tiny {
        tiny: Some(0),
        tinyoffset: 1,
    };
    sizes
        .iter()
        .map(|&n| {
            let a = t.alloc(n, &mut new_block);
            (n, a / MAX_TINY_SIZE, a % MAX_TINY_SIZE)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: tiny_golden
    /// Every object lands in the block and at the offset where go1.27.3 puts it.
    #[test]
    fn tiny_objects_pack_like_go() {
        let golden = include_str!("../golden/tiny.csv");
        let rows: Vec<Vec<usize>> = golden
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|f| f.parse().unwrap()).collect())
            .collect();
        let sizes: Vec<usize> = rows.iter().map(|r| r[0]).collect();
        let ours: Vec<Vec<usize>> = replay(&sizes)
            .into_iter()
            .map(|(n, b, o)| vec![n, b, o])
            .collect();
        assert_eq!(ours, rows);
    }
    // ANCHOR_END: tiny_golden

    #[test]
    fn objects_never_overlap_and_stay_aligned() {
        let n = if cfg!(miri) { 100 } else { 2000 };
        let sizes: Vec<usize> = (0..n).map(|i| 1 + (i * 7919) % 15).collect();
        let got = replay(&sizes);
        let mut used = std::collections::HashSet::new();
        for (n, b, o) in got {
            assert!(o + n <= MAX_TINY_SIZE);
            let align = if n % 8 == 0 {
                8
            } else if n % 4 == 0 {
                4
            } else if n % 2 == 0 {
                2
            } else {
                1
            };
            assert_eq!(o % align, 0);
            for byte in o..o + n {
                assert!(
                    used.insert((b, byte)),
                    "byte {byte} of block {b} used twice"
                );
            }
        }
    }
}
