//! Go: fmt's `%v` for the basic types (fmt/print.go, fmt/format.go), internal/strconv's
//! `%g` layout (ftoa.go: fmtEFG), strconv.Quote, and go/constant's `String` of a value
//! (value.go), which the compiler's messages use.

use super::value::{Rat, Value};
use num_bigint::BigInt;
use num_traits::Signed;

/// The decimal digits of a float: `0.d1d2…dn × 10^dp`, no trailing zeros (Go's decimalSlice).
struct Digits {
    neg: bool,
    d: Vec<u8>,
    dp: i32,
}

/// Split Rust's `{:e}` output ("-1.2345e-7") into Go's digits and decimal point.
fn digits(s: &str) -> Digits {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (mant, exp) = s.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent");
    let mut d: Vec<u8> = mant.bytes().filter(|c| *c != b'.').collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return Digits {
            neg,
            d: Vec::new(),
            dp: 0,
        };
    }
    Digits {
        neg,
        d,
        dp: exp + 1,
    }
}

// ANCHOR: fmt_g
/// Go: fmtEFG for `%g`. `prec` is the precision asked for, or None for the shortest
/// representation: then the switch to exponent form happens at exponent < -4 or >= 6 — not 21
/// as in JavaScript (and encoding/json) — so fmt.Println(1e6) prints 1e+06.
fn fmt_g(x: &Digits, prec: Option<usize>) -> String {
    let nd = x.d.len() as i32;
    let mut eprec = prec.map_or(nd, |p| p as i32);
    if eprec > nd && nd >= x.dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = x.dp - 1;
    let mut out = String::new();
    if x.neg {
        out.push('-');
    }
    if nd == 0 {
        out.push('0');
        return out;
    }
    if exp < -4 || exp >= eprec {
        // %e with all the digits: d.ddde±XX, at least two exponent digits.
        out.push(x.d[0] as char);
        if nd > 1 {
            out.push('.');
            out.extend(x.d[1..].iter().map(|&c| c as char));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else {
        // %f with just the digits there are.
        if x.dp <= 0 {
            out.push('0');
        } else {
            for i in 0..x.dp {
                out.push(x.d.get(i as usize).map_or('0', |&c| c as char));
            }
        }
        if nd > x.dp {
            out.push('.');
            for i in x.dp..nd {
                out.push(if i < 0 { '0' } else { x.d[i as usize] as char });
            }
        }
    }
    out
}
// ANCHOR_END: fmt_g

/// Go: fmt.Println of a float64: `%v` is `%g` with the shortest digits that read back.
pub fn float64(f: f64) -> String {
    fmt_g(&digits(&format!("{f:e}")), None)
}

/// Go: fmt.Println of a float32: the shortest digits that read back *as a float32*.
pub fn float32(f: f32) -> String {
    fmt_g(&digits(&format!("{f:e}")), None)
}

/// Go: `%.6g` (the precision go/constant uses to show a float value in a message).
fn float64_g6(f: f64) -> String {
    fmt_g(&digits(&format!("{f:.5e}")), Some(6))
}

/// Go: strconv.Quote — printable runes as they are, the rest escaped.
pub fn quote(s: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut rest = s;
    while !rest.is_empty() {
        let (c, n) = decode_rune(rest);
        match c {
            None => out.push_str(&format!("\\x{:02x}", rest[0])),
            Some('\x07') => out.push_str("\\a"),
            Some('\x08') => out.push_str("\\b"),
            Some('\x0c') => out.push_str("\\f"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some('\x0b') => out.push_str("\\v"),
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some(c) if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            Some(c) if c.is_control() || c == '\u{FEFF}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            Some(c) => out.push(c),
        }
        rest = &rest[n..];
    }
    out.push('"');
    out
}

/// The first UTF-8 rune of `s` and its length; (None, 1) for a byte that starts none.
fn decode_rune(s: &[u8]) -> (Option<char>, usize) {
    for n in 1..=s.len().min(4) {
        if let Ok(t) = std::str::from_utf8(&s[..n]) {
            return (t.chars().next(), n);
        }
    }
    (None, 1)
}

/// Go: (*stringVal).String — quoted, cut to 72 runes with "..." when longer.
fn string_value(s: &[u8]) -> String {
    const MAX_LEN: usize = 72;
    let q = quote(s);
    if q.chars().count() > MAX_LEN {
        let cut: String = q.chars().take(MAX_LEN - 3).collect();
        return cut + "...";
    }
    q
}

/// Go: floatVal.String — `%.6g` when the value is within float64's range, else an
/// approximate decimal made from the binary exponent (as value.go does, to stay fast).
fn float_value(r: &Rat) -> String {
    let f = r.to_f64();
    let zero = r.num().sign() == num_bigint::Sign::NoSign;
    if zero == (f == 0.0) && f.is_finite() {
        let s = float64_g6(f);
        if !r.is_int() && !s.contains('.') {
            return float64(f); // go.dev/issue/56220: show that it is not whole
        }
        return s;
    }
    // f = mant * 2^exp with 0.5 <= |mant| < 1.
    let exp = r.num().bits() as i64 - r.den().bits() as i64;
    // |f| lies in (2^(exp-1), 2^(exp+1)): one comparison settles which half.
    let exp = if Rat::new(r.num().abs(), r.den().clone())
        .cmp(&pow2(exp))
        .is_ge()
    {
        exp + 1
    } else {
        exp
    };
    let mant = r.quo(&pow2(exp)).to_f64();
    let d = exp as f64 * (std::f64::consts::LN_2 / std::f64::consts::LN_10);
    let e = d as i64;
    let mut m = mant * 10f64.powf(d - e as f64);
    let mut e = e;
    let am = m.abs();
    if am < 1.0 - 0.5e-6 {
        m *= 10.0;
        e -= 1;
    } else if am >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    format!(
        "{}e{}{}",
        float64_g6(m),
        if e < 0 { '-' } else { '+' },
        e.abs()
    )
}

fn pow2(e: i64) -> Rat {
    let one = BigInt::from(1);
    if e >= 0 {
        Rat::from_int(one << e as usize)
    } else {
        Rat::new(one.clone(), one << (-e) as usize)
    }
}

/// Go: constant.Value's String, as the compiler's messages show a value.
pub fn value(v: &Value) -> String {
    match v {
        Value::Unknown => "unknown".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => string_value(s),
        Value::Int(i) => i.to_string(),
        Value::Float(r) => float_value(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn println_float64_switches_to_exponent_form_at_1e6_not_1e21() {
        assert_eq!(float64(1e5), "100000");
        assert_eq!(float64(1e6), "1e+06");
        assert_eq!(float64(1e21), "1e+21");
        assert_eq!(float64(123456789.0), "1.23456789e+08");
        assert_eq!(float64(0.0001), "0.0001");
        assert_eq!(float64(0.00001), "1e-05");
        assert_eq!(float64(-1.5e-7), "-1.5e-07");
        assert_eq!(float64(3.5), "3.5");
        assert_eq!(float64(0.0), "0");
        assert_eq!(float64(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(float64(5e-324), "5e-324");
    }

    #[test]
    fn println_float32_uses_float32_shortest_digits() {
        assert_eq!(float32(0.1), "0.1");
        assert_eq!(float32(1.0 / 3.0), "0.33333334");
        assert_eq!(float32(f32::MAX), "3.4028235e+38");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "miri makes powf imprecise on purpose; Go's message uses math.Pow"
    )]
    fn message_floats_use_six_digits() {
        let r = |n: i64, d: i64| Value::Float(Rat::new(n.into(), d.into()));
        assert_eq!(value(&r(5, 2)), "2.5");
        assert_eq!(value(&r(1, 3)), "0.333333");
        assert_eq!(value(&r(1_000_000, 1)), "1e+06");
        assert_eq!(value(&r(1, 1)), "1");
        // 1e-7 shows no '.' but is not whole, so %g (shortest) is used: the same here.
        assert_eq!(value(&r(1, 10_000_000)), "1e-07");
        let big = Value::Float(Rat::from_int(BigInt::from(10).pow(309)));
        assert_eq!(value(&big), "1e+309");
    }

    #[test]
    fn quote_escapes_like_strconv() {
        assert_eq!(quote(b"a\"b\n\x00\xff"), "\"a\\\"b\\n\\x00\\xff\"");
        assert_eq!(quote("日本".as_bytes()), "\"日本\"");
        let long = vec![b'x'; 100];
        assert_eq!(string_value(&long).chars().count(), 72);
        assert!(string_value(&long).ends_with("..."));
    }
}
