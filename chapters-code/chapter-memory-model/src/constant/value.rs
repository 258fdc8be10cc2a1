//! Go: go/constant/value.go — the values of constants, before any type is attached.
//!
//! An untyped integer is a [`BigInt`] (go/constant's `int64Val` and `intVal` in one); an
//! untyped float is an exact fraction, go/constant's `ratVal`. go/constant keeps a fraction
//! only while numerator and denominator are both shorter than `maxExp` = 4096 bits and then
//! switches to a 512-bit binary `big.Float` (`floatVal`); this crate stops there instead and
//! reports [`Exceeds`], so every float it computes is exact.

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Go: maxExp (value.go). A fraction whose numerator or denominator has this many bits or
/// more becomes a `floatVal` in go/constant.
pub const MAX_EXP: u64 = 4 << 10;

/// A value go/constant would hold as a 512-bit `floatVal`, which this crate does not model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeds;

/// An exact fraction `num/den`, always reduced, `den > 0`; zero is `0/1` (no -0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rat {
    num: BigInt,
    den: BigInt,
}

impl Rat {
    /// `num/den` reduced; `den` must not be zero.
    pub fn new(num: BigInt, den: BigInt) -> Rat {
        assert!(!den.is_zero(), "Rat with zero denominator");
        let g = num.gcd(&den);
        let (mut num, mut den) = if g.is_one() || g.is_zero() {
            (num, den)
        } else {
            (num / &g, den / &g)
        };
        if den.is_negative() {
            num = -num;
            den = -den;
        }
        Rat { num, den }
    }
    pub fn from_int(i: BigInt) -> Rat {
        Rat {
            num: i,
            den: BigInt::one(),
        }
    }
    pub fn num(&self) -> &BigInt {
        &self.num
    }
    pub fn den(&self) -> &BigInt {
        &self.den
    }
    pub fn is_int(&self) -> bool {
        self.den.is_one()
    }
    pub fn sign(&self) -> Ordering {
        self.num.sign_cmp()
    }
    /// Go: smallInt on both parts (makeRat): may this stay a fraction?
    pub fn is_small(&self) -> bool {
        self.num.bits() < MAX_EXP && self.den.bits() < MAX_EXP
    }
    pub fn add(&self, o: &Rat) -> Rat {
        Rat::new(&self.num * &o.den + &o.num * &self.den, &self.den * &o.den)
    }
    pub fn sub(&self, o: &Rat) -> Rat {
        Rat::new(&self.num * &o.den - &o.num * &self.den, &self.den * &o.den)
    }
    pub fn mul(&self, o: &Rat) -> Rat {
        Rat::new(&self.num * &o.num, &self.den * &o.den)
    }
    /// `o` must not be zero (the checker rejects division by zero first).
    pub fn quo(&self, o: &Rat) -> Rat {
        Rat::new(&self.num * &o.den, &self.den * &o.num)
    }
    pub fn neg(&self) -> Rat {
        Rat {
            num: -&self.num,
            den: self.den.clone(),
        }
    }
    /// Go: big.Rat.Float64 — the nearest float64, ties to even; ±Inf when too large.
    pub fn to_f64(&self) -> f64 {
        let (m, lsb) = round_to_binary(self.num.magnitude(), self.den.magnitude(), 53, -1074);
        let f = if too_big(m, lsb, 1024) {
            f64::INFINITY
        } else {
            ldexp(m as f64, lsb)
        };
        if self.num.is_negative() {
            -f
        } else {
            f
        }
    }
    /// Go: big.Rat.Float32 — rounded once, straight to float32 (not through float64).
    pub fn to_f32(&self) -> f32 {
        let (m, lsb) = round_to_binary(self.num.magnitude(), self.den.magnitude(), 24, -149);
        let f = if too_big(m, lsb, 128) {
            f32::INFINITY
        } else {
            ldexp(m as f64, lsb) as f32 // exact: m < 2^25 and 2^lsb is in float32's range
        };
        if self.num.is_negative() {
            -f
        } else {
            f
        }
    }
    /// Go: big.Rat.SetFloat64 — the exact value of a finite float64.
    pub fn from_f64(f: f64) -> Rat {
        assert!(f.is_finite());
        let bits = f.to_bits();
        let neg = bits >> 63 == 1;
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (mant, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, exp - 1075)
        };
        let mant = BigInt::from(mant);
        let r = if e >= 0 {
            Rat::from_int(mant << e as usize)
        } else {
            Rat::new(mant, BigInt::one() << (-e) as usize)
        };
        if neg {
            r.neg()
        } else {
            r
        }
    }
}

impl Ord for Rat {
    fn cmp(&self, o: &Rat) -> Ordering {
        (&self.num * &o.den).cmp(&(&o.num * &self.den))
    }
}

impl PartialOrd for Rat {
    fn partial_cmp(&self, o: &Rat) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Whether `m * 2^lsb >= 2^limit`: the rounded value does not fit the format.
fn too_big(m: u64, lsb: i64, limit: i64) -> bool {
    m != 0 && (64 - m.leading_zeros() as i64) + lsb > limit
}

/// `2^e` for `-1022 <= e <= 1023`, built from its bits: exact everywhere (unlike `powi`,
/// which miri deliberately makes imprecise).
fn pow2f(e: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `m * 2^e`, exactly, for results that are finite float64s (or float32s).
fn ldexp(m: f64, e: i64) -> f64 {
    let mut f = m;
    let mut e = e;
    while e > 1000 {
        f *= pow2f(1000);
        e -= 1000;
    }
    while e < -1000 {
        f *= pow2f(-1000);
        e += 1000;
    }
    f * pow2f(e)
}

/// Round the fraction `a/b` (`b > 0`) to a binary float with `prec` bits of mantissa whose
/// least significant bit may not go below `2^min_lsb` (that is where subnormals live):
/// returns `(m, lsb)` with `a/b ≈ m * 2^lsb`, rounded to nearest, ties to even. `m` may be
/// `2^prec` after rounding up; the caller checks the top of the range.
pub fn round_to_binary(a: &BigUint, b: &BigUint, prec: u32, min_lsb: i64) -> (u64, i64) {
    // ANCHOR: solution-round_to_binary
    if a.is_zero() {
        return (0, min_lsb);
    }
    // Scale so the integer quotient q has at least prec+2 bits: value = (q + r/b) / 2^shift.
    let shift = prec as i64 + 2 - (a.bits() as i64 - b.bits() as i64);
    let (q, r) = if shift >= 0 {
        (a << shift as usize).div_rem(b)
    } else {
        a.div_rem(&(b << (-shift) as usize))
    };
    // The value lies in [2^top, 2^(top+1)); its last kept bit is prec-1 places below top,
    // but never below min_lsb.
    let top = q.bits() as i64 - 1 - shift;
    let lsb = (top - (prec as i64 - 1)).max(min_lsb);
    let drop = (lsb + shift) as u64; // at least 2: q has prec+2 bits or more
    let m = &q >> drop;
    let rest = &q - (&m << drop);
    let half = BigUint::one() << (drop - 1);
    let m = m.to_u64().unwrap_or(u64::MAX);
    let up = match rest.cmp(&half) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => !r.is_zero() || m & 1 == 1, // a tie only if nothing is left over
    };
    (if up { m + 1 } else { m }, lsb)
    // ANCHOR_END: solution-round_to_binary
}

// ANCHOR: value
/// Go: constant.Value. The kind of a value is not its type: an untyped float constant that
/// happens to be whole is still a `Float`, and a typed `float64` constant holds a `Float`
/// that was rounded to a float64 when it got its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Go: unknownVal. The value of an expression that already failed (overflow); it makes
    /// no further errors.
    Unknown,
    Bool(bool),
    /// Go strings are bytes, not necessarily UTF-8 ("\xff" is a valid constant).
    String(Vec<u8>),
    /// Go: int64Val and intVal. Exact; the checker keeps untyped ones within 512 bits.
    Int(BigInt),
    /// Go: ratVal. Exact while both parts stay below [`MAX_EXP`] bits.
    Float(Rat),
}
// ANCHOR_END: value

impl Value {
    /// Go: constant.ToInt — the integer a value is equal to, if any.
    pub fn to_int(&self) -> Option<BigInt> {
        match self {
            Value::Int(i) => Some(i.clone()),
            Value::Float(r) if r.is_int() => Some(r.num().clone()),
            _ => None,
        }
    }
    /// Go: constant.ToFloat for the kinds this crate has.
    pub fn to_rat(&self) -> Option<Rat> {
        match self {
            Value::Int(i) => Some(Rat::from_int(i.clone())),
            Value::Float(r) => Some(r.clone()),
            _ => None,
        }
    }
    /// Go: constant.Sign. Unknown counts as nonzero, as in Go.
    pub fn sign(&self) -> Ordering {
        match self {
            Value::Int(i) => i.sign_cmp(),
            Value::Float(r) => r.sign(),
            _ => Ordering::Greater,
        }
    }
    /// Go: constant.Compare for numbers: exact, so 0.1+0.2 == 0.3 holds.
    pub fn cmp_num(&self, o: &Value) -> Option<Ordering> {
        match (self, o) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            _ => Some(self.to_rat()?.cmp(&o.to_rat()?)),
        }
    }
    /// A value made from a fraction: an [`Exceeds`] where go/constant would go to floatVal.
    pub fn rat(r: Rat) -> Result<Value, Exceeds> {
        if r.is_small() {
            Ok(Value::Float(r))
        } else {
            Err(Exceeds)
        }
    }
}

trait SignCmp {
    fn sign_cmp(&self) -> Ordering;
}
impl SignCmp for BigInt {
    fn sign_cmp(&self) -> Ordering {
        match self.sign() {
            Sign::Minus => Ordering::Less,
            Sign::NoSign => Ordering::Equal,
            Sign::Plus => Ordering::Greater,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rat(n: i64, d: i64) -> Rat {
        Rat::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn exact_fractions_make_point_one_plus_point_two_equal_point_three() {
        let s = rat(1, 10).add(&rat(2, 10));
        assert_eq!(s, rat(3, 10));
        assert_ne!(0.1f64 + 0.2, 0.3); // what float64 arithmetic gets instead
    }

    #[test]
    fn rat_to_f64_is_correctly_rounded() {
        for (n, d) in [
            (1, 3),
            (2, 3),
            (1, 10),
            (-7, 2),
            (22, 7),
            (1, 1 << 40),
            (123456789, 1000),
        ] {
            assert_eq!(rat(n, d).to_f64(), n as f64 / d as f64, "{n}/{d}");
        }
    }

    #[test]
    fn rat_to_f64_ties_go_to_even() {
        // 2^53+1 is halfway between 2^53 and 2^53+2: even mantissa wins, so 2^53.
        let tie = Rat::from_int(BigInt::from((1u64 << 53) + 1));
        assert_eq!(tie.to_f64(), 9007199254740992.0);
        // 2^53+3 is halfway between 2^53+2 and 2^53+4: 2^53+4 has the even mantissa.
        let tie = Rat::from_int(BigInt::from((1u64 << 53) + 3));
        assert_eq!(tie.to_f64(), 9007199254740996.0);
        // Just above the tie rounds up.
        let above = Rat::new(BigInt::from((1u64 << 54) + 3), BigInt::from(2));
        assert_eq!(above.to_f64(), 9007199254740994.0);
    }

    #[test]
    fn rat_to_f64_handles_subnormals_and_overflow() {
        let tiny = Rat::new(BigInt::one(), BigInt::one() << 1074usize);
        assert_eq!(tiny.to_f64(), f64::from_bits(1));
        let half_tiny = Rat::new(BigInt::one(), BigInt::one() << 1075usize);
        assert_eq!(half_tiny.to_f64(), 0.0); // a tie with 0, which is even
        let max = Rat::from_f64(f64::MAX);
        assert_eq!(max.to_f64(), f64::MAX);
        let over = Rat::from_int(BigInt::one() << 1024usize);
        assert_eq!(over.to_f64(), f64::INFINITY);
    }

    #[test]
    fn rat_to_f32_rounds_once_not_through_f64() {
        // 1 + 2^-24 + 2^-60: via float64 it becomes the tie 1 + 2^-24, which float32 rounds
        // down to 1; rounded once, it is above the tie and goes up to 1 + 2^-23.
        let x = Rat::new(
            (BigInt::one() << 60usize) + (BigInt::one() << 36usize) + 1,
            BigInt::one() << 60usize,
        );
        assert_eq!(x.to_f32(), 1.0 + f32::EPSILON);
        assert_eq!(x.to_f64() as f32, 1.0);
        assert_eq!(rat(1, 3).to_f32(), 1.0f32 / 3.0);
        assert_eq!(Rat::from_f64(3.4028236e38).to_f32(), f32::INFINITY);
    }

    #[test]
    fn from_f64_is_exact() {
        assert_eq!(Rat::from_f64(0.25), rat(1, 4));
        assert_eq!(Rat::from_f64(-0.0), rat(0, 1));
        assert_eq!(Rat::from_f64(0.1).to_f64(), 0.1);
    }
}
