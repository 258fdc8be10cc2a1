//! How `append` picks a new capacity.
//!
//! Go: `runtime.growslice` and `runtime.nextslicecap` (runtime/slice.go), plus the two
//! compiler-driven variants of Go 1.25–1.27: a non-escaping slice whose first append lands in a
//! 32-byte stack buffer (cmd/compile/internal/ssagen/ssa.go, `getBackingStoreInfo`), and a slice
//! that escapes late (it is returned) which climbs the size-class ladder inside that buffer
//! (`runtime.growsliceBuf`). Only capacities are modelled: the bytes themselves live in a `Vec`
//! in Rust, and what this chapter teaches is *which* capacity Go picks and why.

use chapter_allocator::sizeclasses::roundupsize;

/// Go: `maxAlloc` on 64-bit Linux: 2^48 bytes (`heapAddrBits` = 48).
pub const MAX_ALLOC: usize = 1 << 48;

/// Go: `base.Debug.VariableMakeThreshold`, 32 bytes by default: the stack buffer the compiler
/// gives a non-escaping slice (cmd/compile/internal/base/flag.go).
pub const VARIABLE_MAKE_THRESHOLD: usize = 32;

/// The error Go raises as `panic(errorString("growslice: len out of range"))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LenOutOfRange;

impl std::fmt::Display for LenOutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("runtime error: growslice: len out of range")
    }
}

impl std::error::Error for LenOutOfRange {}

// ANCHOR: nextslicecap
/// The capacity rule before rounding: double small slices, grow big ones by about 1.25x.
///
/// Go: `runtime.nextslicecap` (runtime/slice.go). Go computes in `int`; the loop may overflow,
/// which Go detects by comparing as unsigned and then falls back to `new_len`.
pub fn nextslicecap(new_len: isize, old_cap: isize) -> isize {
    // ANCHOR: solution-nextslicecap
    let mut newcap = old_cap;
    let doublecap = newcap.wrapping_add(newcap);
    if new_len > doublecap {
        return new_len;
    }
    const THRESHOLD: isize = 256;
    if old_cap < THRESHOLD {
        return doublecap;
    }
    loop {
        // A smooth step from 2x at 256 towards 1.25x for large slices.
        newcap = newcap.wrapping_add((newcap.wrapping_add(3 * THRESHOLD)) >> 2);
        if newcap as usize >= new_len as usize {
            break;
        }
    }
    if newcap <= 0 {
        return new_len;
    }
    newcap
    // ANCHOR_END: solution-nextslicecap
}
// ANCHOR_END: nextslicecap

// ANCHOR: growslice
/// The capacity `append` gives a heap slice that must grow from `old_cap` to hold `new_len`.
///
/// Go: `runtime.growslice` (runtime/slice.go). The rule is applied to elements, then the byte
/// size goes through `roundupsize`, and whatever the size class has left over becomes capacity.
/// `has_pointers` decides whether the block carries a malloc header (see `roundupsize`).
pub fn growslice(
    new_len: usize,
    old_cap: usize,
    elem_size: usize,
    has_pointers: bool,
) -> Result<usize, LenOutOfRange> {
    if new_len > isize::MAX as usize {
        return Err(LenOutOfRange);
    }
    if elem_size == 0 {
        // Zero-sized elements all live at runtime.zerobase: capacity is just the length.
        return Ok(new_len);
    }
    let newcap = nextslicecap(new_len as isize, old_cap as isize) as usize;
    let Some(mem) = newcap.checked_mul(elem_size) else {
        return Err(LenOutOfRange);
    };
    if newcap > MAX_ALLOC / elem_size {
        return Err(LenOutOfRange);
    }
    let capmem = roundupsize(mem, !has_pointers);
    if capmem > MAX_ALLOC {
        return Err(LenOutOfRange);
    }
    Ok(capmem / elem_size)
}
// ANCHOR_END: growslice

// ANCHOR: growslicebuf
/// The stack-buffer variant for a slice that escapes only at the end (it is returned).
///
/// Go: `runtime.growsliceBuf`. While the slice still fits the 32-byte buffer, capacity climbs
/// one size class at a time, so that the final move to the heap (`moveSlice`) wastes nothing.
pub fn growslice_buf(
    new_len: usize,
    old_cap: usize,
    elem_size: usize,
    has_pointers: bool,
    buf_len: usize,
) -> Result<usize, LenOutOfRange> {
    if new_len > buf_len {
        return growslice(new_len, old_cap, elem_size, has_pointers);
    }
    Ok(roundupsize(new_len * elem_size, !has_pointers) / elem_size)
}
// ANCHOR_END: growslicebuf

/// How a slice's backing store is chosen, as the compiler decides it (the `variant` column of
/// `golden/growslice.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The slice header escapes (stored in a global): every growth is `growslice` on the heap.
    Escape,
    /// A purely local slice: its first append may use a 32-byte stack buffer.
    NoEscape,
    /// A local slice returned at the end, whose capacity the function uses (`cap`, reslicing):
    /// it climbs the size classes inside the stack buffer.
    Return,
    /// One `append(s, make([]T, n)...)`: `growslice` with `n` elements at once.
    EscapeMulti,
}

/// One append: a slice of `elem_size`-byte elements (holding pointers or not), with length and
/// capacity `start_len`/`start_cap`, gets `appended` more elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Append {
    pub elem_size: usize,
    pub has_pointers: bool,
    pub variant: Variant,
    pub start_len: usize,
    pub start_cap: usize,
    pub appended: usize,
}

impl Variant {
    /// Parses the CSV spelling (`escape`, `noescape_ptr`, …) into a variant and a pointer flag.
    pub fn parse(s: &str) -> Option<(Variant, bool)> {
        let (base, ptr) = match s.strip_suffix("_ptr") {
            Some(b) => (b, true),
            None => (s, false),
        };
        let v = match base {
            "escape" => Variant::Escape,
            "noescape" => Variant::NoEscape,
            "return" => Variant::Return,
            "escape_multi" => Variant::EscapeMulti,
            _ => return None,
        };
        Some((v, ptr))
    }
}

// ANCHOR: append_cap
/// The capacity after the append, exactly as go1.27.3 on amd64 reports it with `cap()`.
pub fn append_cap(a: Append) -> Result<usize, LenOutOfRange> {
    let Some(new_len) = a.start_len.checked_add(a.appended) else {
        return Err(LenOutOfRange);
    };
    if new_len <= a.start_cap {
        return Ok(a.start_cap); // it fits: no growth at all
    }
    // K elements fit the compiler's stack buffer (0 when one element is bigger than it).
    let k = VARIABLE_MAKE_THRESHOLD
        .checked_div(a.elem_size)
        .unwrap_or(0);
    match a.variant {
        Variant::Escape | Variant::EscapeMulti => {
            growslice(new_len, a.start_cap, a.elem_size, a.has_pointers)
        }
        // The first append to an empty local slice takes the whole buffer: cap is K at once.
        Variant::NoEscape if k > 0 && a.start_len == 0 && new_len <= k => Ok(k),
        Variant::NoEscape => growslice(new_len, a.start_cap, a.elem_size, a.has_pointers),
        Variant::Return if k > 0 => {
            growslice_buf(new_len, a.start_cap, a.elem_size, a.has_pointers, k)
        }
        Variant::Return => growslice(new_len, a.start_cap, a.elem_size, a.has_pointers),
    }
}
// ANCHOR_END: append_cap

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_slices_double_and_big_ones_step_towards_1_25x() {
        assert_eq!(nextslicecap(1, 0), 1);
        assert_eq!(nextslicecap(11, 10), 20);
        assert_eq!(nextslicecap(257, 256), 256 + (256 + 768) / 4);
        // Far past the threshold the step is close to 1.25x.
        let c = nextslicecap(1_000_001, 1_000_000) as f64 / 1_000_000.0;
        assert!((1.25..1.26).contains(&c), "{c}");
        // Asking for more than double takes exactly what was asked.
        assert_eq!(nextslicecap(100, 10), 100);
    }

    #[test]
    fn fidelity_examples() {
        // append([]int64(nil), 1) → cap 1; from cap 5 add one → 10 (80 B class).
        assert_eq!(growslice(1, 0, 8, false), Ok(1));
        assert_eq!(growslice(6, 5, 8, false), Ok(10));
        // A []byte of length 0 appended once gets the whole 8-byte class.
        assert_eq!(growslice(1, 0, 1, false), Ok(8));
    }

    #[test]
    fn huge_lengths_are_refused_like_go() {
        assert_eq!(growslice(1 << 60, 1 << 59, 8, false), Err(LenOutOfRange));
        assert_eq!(growslice(usize::MAX, 0, 1, false), Err(LenOutOfRange));
    }
}
