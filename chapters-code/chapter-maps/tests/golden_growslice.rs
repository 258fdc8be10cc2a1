//! growslice against real go1.27.3: every row of golden/growslice.csv, which
//! go/growslice/main.go printed (`cargo xtask golden` reruns it and diffs).

use chapter_maps::growslice::{append_cap, Append, Variant};

// ANCHOR: golden
#[test]
fn every_append_capacity_matches_go_1_27_3() {
    let csv = include_str!("../golden/growslice.csv");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in csv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("elemsize"))
    {
        let f: Vec<&str> = line.split(',').collect();
        let (variant, has_pointers) = Variant::parse(f[1]).expect("known variant");
        let n = |i: usize| f[i].parse::<usize>().unwrap();
        let a = Append {
            elem_size: n(0),
            has_pointers,
            variant,
            start_len: n(2),
            start_cap: n(3),
            appended: n(4),
        };
        let go = n(5);
        let ours = append_cap(a).unwrap();
        if ours != go {
            wrong.push(format!("{line}: ours {ours}"));
        }
        checked += 1;
    }
    assert!(checked > 2000, "golden file too short: {checked} rows");
    assert!(
        wrong.is_empty(),
        "{} of {checked} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
// ANCHOR_END: golden

/// The compiler-driven surprises the chapter explains, straight from the golden data.
#[test]
fn a_local_byte_slice_starts_in_a_32_byte_stack_buffer() {
    let a = Append {
        elem_size: 1,
        has_pointers: false,
        variant: Variant::NoEscape,
        start_len: 0,
        start_cap: 0,
        appended: 1,
    };
    assert_eq!(append_cap(a), Ok(32));
    let heap = Append {
        variant: Variant::Escape,
        ..a
    };
    assert_eq!(append_cap(heap), Ok(8));
}

#[test]
fn a_returned_slice_climbs_one_size_class_at_a_time() {
    let mut caps = vec![];
    let (mut len, mut cap) = (0, 0);
    while len < 40 {
        let a = Append {
            elem_size: 8,
            has_pointers: false,
            variant: Variant::Return,
            start_len: len,
            start_cap: cap,
            appended: 1,
        };
        let c = append_cap(a).unwrap();
        if c != cap {
            caps.push(c);
        }
        cap = c;
        len += 1;
    }
    // 8, 16, 24, 32 bytes inside the buffer, then ordinary doubling on the heap.
    assert_eq!(caps, [1, 2, 3, 4, 8, 16, 32, 64]);
}
