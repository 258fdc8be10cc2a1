//! Test helpers that tests of this crate (and students' tests for its exercises) share.

use std::hash::{BuildHasherDefault, Hasher};

/// A hasher whose hash is the last `u64` written. The maps write their seed first and the key
/// after it, so for `u64` keys the hash *is* the key: a test chooses the bucket or group (low
/// or high bits) and the tophash or H2 of every key it inserts.
#[derive(Default)]
pub struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        panic!("KeyIsHash takes only u64 keys")
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

/// `BuildHasher` for [`KeyIsHash`]: `BucketMap::with_hasher(Ident::default())`.
pub type Ident = BuildHasherDefault<KeyIsHash>;

/// `n` distinct keys spread over all 64 bits (a Fibonacci-hashing multiple), so tests need no
/// random-number crate.
pub fn spread_keys(n: usize) -> impl Iterator<Item = u64> {
    (0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555)
}
