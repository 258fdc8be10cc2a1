//! What the criterion benches in `benches/*.rs` share, and what keeps them like-for-like with
//! their Go twins in `go/`: the same keys, drawn from the same generator in the same order, and
//! one small trait so that every map implementation runs the very same loop.
//!
//! `cargo xtask bench` runs both sides and writes `results/*.json`; see `xtask/src/bench.rs`.

use std::hash::Hash;

/// Operations per timed phase: every map phase touches this many keys, the append loop pushes
/// this many elements. Go: `const N` in `go/maps_test.go`.
pub const N: usize = 1_000_000;

/// The seed of every key set, in both languages.
pub const SEED: u64 = 42;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, and trivially the same in Go (`go/keys_test.go`).
/// Its output is a bijection of a counter, so the first 2·N draws are all distinct: the "miss"
/// keys are guaranteed absent.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The keys of one benchmark family.
#[derive(Debug, Clone)]
pub struct Keys<K> {
    /// Insertion order: draws 0..N.
    pub insert: Vec<K>,
    /// The same keys shuffled (Fisher–Yates driven by draws 2N..): lookup and delete order.
    pub hit: Vec<K>,
    /// Draws N..2N, none of which is in the map.
    pub miss: Vec<K>,
}

fn draw_keys<K: Clone>(n: usize, mut make: impl FnMut(u64) -> K) -> Keys<K> {
    let mut rng = SplitMix64::new(SEED);
    let insert: Vec<K> = (0..n).map(|_| make(rng.next_u64())).collect();
    let miss: Vec<K> = (0..n).map(|_| make(rng.next_u64())).collect();
    let mut hit = insert.clone();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        hit.swap(i, j);
    }
    Keys { insert, hit, miss }
}

/// `map_u64`: the raw draws.
pub fn u64_keys(n: usize) -> Keys<u64> {
    draw_keys(n, |x| x)
}

/// `map_str16`: each draw as 16 lowercase hex digits (Go: `fmt.Sprintf("%016x", x)`).
pub fn str16_keys(n: usize) -> Keys<String> {
    draw_keys(n, |x| format!("{x:016x}"))
}

/// What the "iterate" phase folds from a key, so that the loop cannot be skipped.
pub trait KeyBits {
    fn bits(&self) -> u64;
}

impl KeyBits for u64 {
    #[inline]
    fn bits(&self) -> u64 {
        *self
    }
}

impl KeyBits for String {
    #[inline]
    fn bits(&self) -> u64 {
        self.len() as u64
    }
}

/// One map implementation under test, values always `u64`. Every method is a plain forward to
/// the map's own std-like API, so each bench loop is the same code for every implementation.
pub trait BenchMap<K>: Sized {
    /// The column name in the results (`impl` in the JSON).
    const IMPL: &'static str;
    /// An empty map with no size hint.
    fn empty() -> Self;
    fn put(&mut self, k: K, v: u64);
    fn lookup(&self, k: &K) -> Option<u64>;
    fn del(&mut self, k: &K) -> Option<u64>;
    /// Visits every entry and folds key bits and value.
    fn fold_entries(&self) -> u64;
    fn size(&self) -> usize;

    /// Inserts clones of `keys` (value = position), as the "insert" phase does.
    fn build(keys: &[K]) -> Self
    where
        K: Clone,
    {
        let mut m = Self::empty();
        for (i, k) in keys.iter().enumerate() {
            m.put(k.clone(), i as u64);
        }
        m
    }
}

/// `ours`: the chapter's Swiss table, hashed with ahash.
pub type Ours<K> = chapter_maps::SwissMap<K, u64, ahash::RandomState>;
/// `ours-bucket`: the chapter's pre-1.24 bucket map, hashed with ahash.
pub type OursBucket<K> = chapter_maps::BucketMap<K, u64, ahash::RandomState>;
/// `hashbrown+ahash`: the Swiss table std is built on, with the same hasher as ours.
pub type Hashbrown<K> = hashbrown::HashMap<K, u64, ahash::RandomState>;
/// `std`: std's HashMap with its default hasher, SipHash-1-3 (DoS-resistant, slower).
pub type Std<K> = std::collections::HashMap<K, u64>;

macro_rules! bench_map {
    ($ty:ident, $name:literal, $empty:expr) => {
        impl<K: Hash + Eq + KeyBits> BenchMap<K> for $ty<K> {
            const IMPL: &'static str = $name;
            #[inline]
            fn empty() -> Self {
                $empty
            }
            #[inline]
            fn put(&mut self, k: K, v: u64) {
                self.insert(k, v);
            }
            #[inline]
            fn lookup(&self, k: &K) -> Option<u64> {
                self.get(k).copied()
            }
            #[inline]
            fn del(&mut self, k: &K) -> Option<u64> {
                self.remove(k)
            }
            #[inline]
            fn fold_entries(&self) -> u64 {
                let mut s = 0u64;
                for (k, v) in self.iter() {
                    s = s.wrapping_add(k.bits()).wrapping_add(*v);
                }
                s
            }
            #[inline]
            fn size(&self) -> usize {
                self.len()
            }
        }
    };
}

bench_map!(Ours, "ours", Ours::with_hasher(ahash::RandomState::new()));
bench_map!(
    OursBucket,
    "ours-bucket",
    OursBucket::with_hasher(ahash::RandomState::new())
);
bench_map!(
    Hashbrown,
    "hashbrown+ahash",
    Hashbrown::with_hasher(ahash::RandomState::new())
);
bench_map!(Std, "std", Std::new());

/// `growslice/append_u64`, impl `std`: `Vec::push` and its own doubling.
pub fn append_std(n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n as u64 {
        v.push(i);
    }
    v
}

/// `growslice/append_u64`, impl `ours`: a `Vec` grown by hand to exactly the capacity Go's
/// `append` picks (`chapter_maps::growslice::growslice`, 8-byte elements without pointers).
pub fn append_ours(n: usize) -> Vec<u64> {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..n as u64 {
        if v.len() == v.capacity() {
            let cap = chapter_maps::growslice::growslice(v.len() + 1, v.capacity(), 8, false)
                .expect("a million u64 fit");
            v.reserve_exact(cap - v.len());
        }
        v.push(i);
    }
    v
}

// ---- the allocator chapter's mixed workload ----------------------------------------------------

/// The allocator chapter's resident-memory workload (`examples/rss_*.rs`, and in Go
/// `go/rssmixed`): [`MIXED_ROUNDS`] rounds, each allocating [`MIXED_OBJECTS`] objects of a
/// random mix of sizes, then keeping each live object with probability 3/10 and freeing the
/// rest. So the survivors of earlier rounds keep being thinned too, and the live set settles
/// near 0.3·N/0.7 ≈ 43 000 objects after each round's frees and 143 000 before them.
///
/// The draws, each one [`Lcg::draw`], in this order ([`mixed_size`]):
/// - per object, a first draw `a`: if `a % 2000 == 0` (1 in 2000), a buffer of
///   `65536 + b % 983041` bytes (64 KiB ..= 1 MiB), `b` the next draw;
/// - otherwise two more draws `c`, `d`: `c % 100 < 70` → `8 + d % 121` bytes (8 ..= 128),
///   `< 95` → `129 + d % 896` (129 ..= 1024), else `1025 + d % 3072` (1025 ..= 4096);
/// - after the round's allocations, one draw `k` per live object, oldest first: kept iff
///   `k % 10 < 3`.
///
/// Every object has one byte written in each of its 4 KiB pages and its last byte, so each
/// allocator is charged for the pages an object spans (Go's `make` would not fault fresh pages
/// by itself either). The survivors of the last round stay live while RSS is read.
pub const MIXED_ROUNDS: usize = 20;
/// Objects allocated per round of the mixed workload: two million over the whole run.
pub const MIXED_OBJECTS: usize = 100_000;
/// `cargo xtask test` runs the workload with `small` as its argument: this many rounds…
pub const MIXED_SMALL_ROUNDS: usize = 3;
/// …of this many objects.
pub const MIXED_SMALL_OBJECTS: usize = 5_000;

/// Knuth's MMIX LCG, handing out the top 31 bits: the mixed workload's generator, the same
/// step in Go (`go/rssmixed/main.go`).
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed)
    }

    pub fn draw(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// The size of the next object of the mixed workload.
pub fn mixed_size(rng: &mut Lcg) -> usize {
    if rng.draw().is_multiple_of(2000) {
        return 65_536 + (rng.draw() % 983_041) as usize;
    }
    let c = rng.draw() % 100;
    let d = rng.draw() as usize;
    if c < 70 {
        8 + d % 121
    } else if c < 95 {
        129 + d % 896
    } else {
        1025 + d % 3072
    }
}

/// One object of the workload: `size` bytes from the global allocator, freed on drop.
struct Block {
    ptr: std::ptr::NonNull<u8>,
    size: usize,
}

impl Block {
    fn layout(size: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(size, 8).expect("a valid layout")
    }

    fn new(size: usize) -> Block {
        let layout = Block::layout(size);
        // SAFETY: size is at least 8, so the layout is not zero-sized.
        let p = unsafe { std::alloc::alloc(layout) };
        let Some(ptr) = std::ptr::NonNull::new(p) else {
            std::alloc::handle_alloc_error(layout)
        };
        // One byte per 4 KiB page, and the last byte (see `MIXED_ROUNDS`).
        for off in (0..size).step_by(4096).chain([size - 1]) {
            // SAFETY: off < size, inside the block.
            unsafe { ptr.as_ptr().add(off).write(1) };
        }
        Block { ptr, size }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Block::layout(self.size)) };
    }
}

/// What one run of the mixed workload did: the same in Rust and Go when both drew the same
/// objects (`cargo xtask test` compares them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixedRun {
    /// Objects allocated.
    pub objects: u64,
    /// Bytes asked for, over all objects.
    pub bytes: u64,
    /// Objects still live at the end.
    pub live: u64,
}

/// Runs the mixed workload (`small`: the short one of `cargo xtask test`) on the global
/// allocator and calls `measure` while the last round's survivors are still live.
pub fn mixed_workload<R>(small: bool, measure: impl FnOnce(MixedRun) -> R) -> R {
    let (rounds, objects) = if small {
        (MIXED_SMALL_ROUNDS, MIXED_SMALL_OBJECTS)
    } else {
        (MIXED_ROUNDS, MIXED_OBJECTS)
    };
    let mut rng = Lcg::new(SEED);
    let mut live: Vec<Block> = Vec::new();
    let mut run = MixedRun {
        objects: 0,
        bytes: 0,
        live: 0,
    };
    for _ in 0..rounds {
        for _ in 0..objects {
            let size = mixed_size(&mut rng);
            run.objects += 1;
            run.bytes += size as u64;
            live.push(Block::new(size));
        }
        // `retain` visits every element once, in order: one draw per live object.
        live.retain(|_| rng.draw() % 10 < 3);
    }
    run.live = live.len() as u64;
    let r = measure(run);
    drop(live);
    r
}

/// `VmHWM` (peak) and `VmRSS` (current) of this process in KiB, from /proc/self/status (0 where
/// there is none).
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The body of each `rss_<impl>` example: runs the mixed workload (argument `small`: the short
/// one) and prints one JSON line, the format of the Go twin's: `impl`, `peak_kib`, `final_kib`,
/// `released_kib` when `released` gives it (bytes), and the run's counts.
pub fn rss_main(imp: &str, released: impl FnOnce() -> Option<usize>) {
    let small = std::env::args().skip(1).any(|a| a == "small");
    let (line, run) = mixed_workload(small, |run| {
        let (peak, now) = rss_kib();
        let released =
            released().map_or(String::new(), |b| format!(",\"released_kib\":{}", b / 1024));
        (
            format!("{{\"impl\":\"{imp}\",\"peak_kib\":{peak},\"final_kib\":{now}{released}"),
            run,
        )
    });
    println!(
        "{line},\"objects\":{},\"bytes\":{},\"live\":{}}}",
        run.objects, run.bytes, run.live
    );
}

// ---- the mutex chapter's lock-wait workload ----------------------------------------------------

/// The mutex chapter's lock-wait programs (`examples/wait_*.rs`, and in Go `go/lockwait`):
/// [`WAIT_CONTENDERS`] contenders share one lock. Each takes it [`WAIT_LOCKS`] times and
/// records how long each Lock call took, from just before the call to the first instruction
/// inside the critical section. The critical section applies [`wait_work`] to the guarded
/// state; after Unlock the contender applies it once more to a private state, so that the
/// lock is busy about half the time. Goroutine rows run on [`WAIT_PROCS`] Ps (ours, and Go at
/// GOMAXPROCS 2); thread rows on as many OS threads as contenders, on the same machine.
pub const WAIT_CONTENDERS: usize = 4;
/// GOMAXPROCS of the goroutine rows.
pub const WAIT_PROCS: u32 = 2;
/// Lock calls per contender.
pub const WAIT_LOCKS: usize = 100_000;
/// …and with the argument `small`, for `cargo xtask test`.
pub const WAIT_SMALL_LOCKS: usize = 1_000;
/// [`Lcg`] steps of one [`wait_work`]: some tens of nanoseconds.
pub const WAIT_WORK: usize = 50;

/// The work in and after each critical section: [`WAIT_WORK`] steps of [`Lcg`] from `x`.
/// The guarded state ends as this applied `WAIT_CONTENDERS × locks` times to [`SEED`],
/// whatever the order of the contenders: the check that every program did the same work.
#[inline]
pub fn wait_work(x: u64) -> u64 {
    let mut l = Lcg(x);
    for _ in 0..WAIT_WORK {
        l.draw();
    }
    l.0
}

/// A lock and the `u64` it guards, as each lock-wait row uses it.
pub trait WaitLock: Sync + Send {
    /// The column name in the results (`impl` in the JSON).
    const IMPL: &'static str;
    fn new(state: u64) -> Self;
    /// Lock, `f` on the guarded state, unlock.
    fn with(&self, f: impl FnOnce(&mut u64));
}

/// `ours`: the chapter's Mutex, its state beside it in an `UnsafeCell` as Go keeps guarded
/// fields next to a sync.Mutex.
pub struct WaitOurs {
    mu: chapter_mutex::Mutex,
    state: std::cell::UnsafeCell<u64>,
}

// SAFETY: `state` is only touched while `mu` is held.
unsafe impl Sync for WaitOurs {}

impl WaitLock for WaitOurs {
    const IMPL: &'static str = "ours";
    fn new(state: u64) -> Self {
        WaitOurs {
            mu: chapter_mutex::Mutex::new(),
            state: std::cell::UnsafeCell::new(state),
        }
    }
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        self.mu.lock();
        // SAFETY: we hold `mu`.
        f(unsafe { &mut *self.state.get() });
        self.mu.unlock();
    }
}

impl WaitLock for std::sync::Mutex<u64> {
    const IMPL: &'static str = "std";
    fn new(state: u64) -> Self {
        std::sync::Mutex::new(state)
    }
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock().unwrap());
    }
}

impl WaitLock for parking_lot::Mutex<u64> {
    const IMPL: &'static str = "parking_lot";
    fn new(state: u64) -> Self {
        parking_lot::Mutex::new(state)
    }
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
    }
}

/// One contender: wait at the start line until all have arrived (calling `pause` meanwhile),
/// then `locks` rounds of Lock, the critical section, Unlock and the work outside. Returns
/// each Lock call's wait in nanoseconds.
fn wait_contender<L: WaitLock>(
    lock: &L,
    locks: usize,
    ready: &std::sync::atomic::AtomicUsize,
    pause: impl Fn(),
) -> Vec<u64> {
    use std::sync::atomic::Ordering::SeqCst;
    ready.fetch_add(1, SeqCst);
    while ready.load(SeqCst) < WAIT_CONTENDERS {
        pause();
    }
    let mut waits = Vec::with_capacity(locks);
    let mut private = ready as *const _ as u64;
    for _ in 0..locks {
        let start = std::time::Instant::now();
        let mut wait = 0;
        lock.with(|s| {
            wait = start.elapsed().as_nanos() as u64;
            *s = wait_work(*s);
        });
        waits.push(wait);
        private = wait_work(private);
    }
    std::hint::black_box(private);
    waits
}

/// Lock calls per contender: [`WAIT_SMALL_LOCKS`] with the argument `small`.
fn wait_locks() -> usize {
    if std::env::args().skip(1).any(|a| a == "small") {
        WAIT_SMALL_LOCKS
    } else {
        WAIT_LOCKS
    }
}

/// The nearest-rank percentile of sorted `v`, in tenths of a percent (Go: `rank` in
/// go/lockwait), in integers so that both languages pick the same element.
fn rank(v: &[u64], permille: usize) -> u64 {
    v[(v.len() * permille).div_ceil(1000).max(1) - 1]
}

/// The one JSON line of a lock-wait program: the waits' p50, p99, p99.9 and maximum in ns,
/// and the workload's `locks` (in all) and final guarded `state`.
fn wait_report(imp: &str, waits: Vec<Vec<u64>>, state: u64) {
    let mut all = waits.concat();
    all.sort_unstable();
    println!(
        "{{\"impl\":\"{imp}\",\"p50_ns\":{},\"p99_ns\":{},\"p999_ns\":{},\"max_ns\":{},\"locks\":{},\"state\":{state}}}",
        rank(&all, 500),
        rank(&all, 990),
        rank(&all, 999),
        all[all.len() - 1],
        all.len(),
    );
}

/// The body of `wait_std` and `wait_parking_lot`: the contenders are OS threads.
pub fn lock_wait_threads<L: WaitLock>() {
    let locks = wait_locks();
    let lock = L::new(SEED);
    let ready = std::sync::atomic::AtomicUsize::new(0);
    let waits = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WAIT_CONTENDERS)
            .map(|_| s.spawn(|| wait_contender(&lock, locks, &ready, std::thread::yield_now)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let mut state = 0;
    lock.with(|s| state = *s);
    wait_report(L::IMPL, waits, state);
}

/// The body of `wait_ours`: the contenders are goroutines of the chapter's runtime, on
/// [`WAIT_PROCS`] Ps, and they take the chapter's Mutex.
pub fn lock_wait_goroutines() {
    use chapter_scheduler::{gosched, Runtime};
    use std::sync::Arc;
    let locks = wait_locks();
    Runtime::new(WAIT_PROCS).run(move || {
        let lock = Arc::new(WaitOurs::new(SEED));
        let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let waits = Arc::new(std::sync::Mutex::new(Vec::new()));
        let wg = Arc::new(chapter_mutex::WaitGroup::new());
        for _ in 0..WAIT_CONTENDERS {
            let (lock, ready, waits) = (lock.clone(), ready.clone(), waits.clone());
            wg.go(move || {
                let w = wait_contender(&*lock, locks, &ready, gosched);
                waits.lock().unwrap().push(w);
            });
        }
        wg.wait();
        let mut state = 0;
        lock.with(|s| state = *s);
        let waits = std::mem::take(&mut *waits.lock().unwrap());
        wait_report(WaitOurs::IMPL, waits, state);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    // The same constants are asserted by `go/keys_test.go` (TestKeysMatchRust): if either
    // side's generator drifts, both test suites say so.
    const FIRST_DRAW: u64 = 0xbdd7_3226_2feb_6e95;

    #[test]
    fn splitmix64_reference_value() {
        assert_eq!(SplitMix64::new(SEED).next_u64(), FIRST_DRAW);
    }

    #[test]
    fn key_sets_match_go() {
        let k = u64_keys(N);
        let fold = |v: &[u64]| v.iter().fold(0u64, |a, &x| a.rotate_left(5) ^ x);
        assert_eq!(k.insert[0], FIRST_DRAW);
        assert_eq!(fold(&k.insert), KEYS_FOLD_INSERT, "{:#x}", fold(&k.insert));
        assert_eq!(fold(&k.hit), KEYS_FOLD_HIT, "{:#x}", fold(&k.hit));
        assert_eq!(fold(&k.miss), KEYS_FOLD_MISS, "{:#x}", fold(&k.miss));
        let s = str16_keys(3);
        assert_eq!(s.insert[0], format!("{FIRST_DRAW:016x}"));
        assert!(s.insert.iter().all(|k| k.len() == 16));
    }

    const KEYS_FOLD_INSERT: u64 = 0x661f_6b17_2caf_50fb;
    const KEYS_FOLD_HIT: u64 = 0xa3ac_32f9_4957_f39b;
    const KEYS_FOLD_MISS: u64 = 0x4838_00e4_0995_48e3;

    #[test]
    fn ours_append_matches_go_capacity() {
        // Go: cap(s) after a million appends to a nil []uint64 (go/keys_test.go).
        let v = append_ours(N);
        assert_eq!(v.len(), N);
        assert_eq!(v.capacity(), GO_APPEND_CAP, "{}", v.capacity());
    }

    const GO_APPEND_CAP: usize = 1_055_744;

    #[test]
    fn mixed_small_workload_matches_go() {
        // What `go run ./rssmixed small` prints as objects, bytes and live (go/rssmixed).
        let run = mixed_workload(true, |run| run);
        assert_eq!(
            run,
            MixedRun {
                objects: 15_000,
                bytes: 10_312_400,
                live: 2_082,
            }
        );
    }

    #[test]
    fn lock_wait_work_matches_go() {
        // What `go run ./lockwait small` prints as state (go/lockwait): wait_work applied
        // WAIT_CONTENDERS × WAIT_SMALL_LOCKS times to SEED.
        let mut s = SEED;
        for _ in 0..WAIT_CONTENDERS * WAIT_SMALL_LOCKS {
            s = wait_work(s);
        }
        assert_eq!(s, LOCK_WAIT_SMALL_STATE, "{s}");
    }

    const LOCK_WAIT_SMALL_STATE: u64 = 16_032_605_837_726_549_098;

    #[test]
    fn ranks_are_nearest_rank() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(rank(&v, 500), 500);
        assert_eq!(rank(&v, 990), 990);
        assert_eq!(rank(&v, 999), 999);
        assert_eq!(rank(&[7], 999), 7);
    }
}
