//! Chapter "maps": Go's Swiss map and bucket map as rebuilt in `chapter_maps`, against hashbrown,
//! std's HashMap and (in `go/maps_test.go`) Go's own map; and `append`'s growth rule.
//!
//! Bench ids are `<group>/<phase>/<impl>`; the Go twin is `Benchmark_<group>/<phase>`. One
//! criterion iteration is one whole phase over `N` keys (build the map, look every key up, …):
//! `cargo xtask bench` divides by the throughput (`N` elements) to report ns per operation.
//! Only the phase itself is timed (`iter_custom`): building the map a phase needs, cloning the
//! keys that insert consumes, and dropping the map afterwards all happen off the clock.

mod common;
use benches::{
    append_ours, append_std, str16_keys, u64_keys, BenchMap, Hashbrown, KeyBits, Keys, Ours,
    OursBucket, Std, N,
};
use common::config;
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion,
    SamplingMode, Throughput,
};
use std::hash::Hash;
use std::time::{Duration, Instant};

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    // One iteration takes tens of milliseconds: same iteration count in every sample.
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(N as u64));
    g
}

/// The map each lookup-style phase reads, built once per implementation on first use.
fn cached<'m, K: Clone, M: BenchMap<K>>(slot: &'m mut Option<M>, keys: &[K]) -> &'m M {
    slot.get_or_insert_with(|| M::build(keys))
}

fn insert<K: Clone + Hash + Eq, M: BenchMap<K>>(g: &mut BenchmarkGroup<WallTime>, k: &Keys<K>) {
    g.bench_function(BenchmarkId::new("insert", M::IMPL), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut owned = k.insert.clone();
                let mut m = M::empty();
                let t = Instant::now();
                // `drain` moves the keys in and keeps the Vec's buffer, freed off the clock.
                for (i, key) in owned.drain(..).enumerate() {
                    m.put(key, i as u64);
                }
                total += t.elapsed();
                black_box(&m);
                assert_eq!(m.size(), N);
                drop((m, owned));
            }
            total
        })
    });
}

fn lookups<K: Clone, M: BenchMap<K>>(
    g: &mut BenchmarkGroup<WallTime>,
    phase: &str,
    k: &Keys<K>,
    probes: &[K],
    expect_found: usize,
) {
    let mut slot = None;
    g.bench_function(BenchmarkId::new(phase, M::IMPL), |b| {
        let m: &M = cached(&mut slot, &k.insert);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let mut found = 0usize;
                let mut sum = 0u64;
                for key in probes {
                    if let Some(v) = m.lookup(key) {
                        found += 1;
                        sum = sum.wrapping_add(v);
                    }
                }
                total += t.elapsed();
                black_box(sum);
                assert_eq!(found, expect_found);
            }
            total
        })
    });
}

fn iterate<K: Clone + KeyBits, M: BenchMap<K>>(g: &mut BenchmarkGroup<WallTime>, k: &Keys<K>) {
    let mut slot = None;
    g.bench_function(BenchmarkId::new("iterate", M::IMPL), |b| {
        let m: &M = cached(&mut slot, &k.insert);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let s = m.fold_entries();
                total += t.elapsed();
                black_box(s);
            }
            total
        })
    });
}

fn delete<K: Clone, M: BenchMap<K>>(g: &mut BenchmarkGroup<WallTime>, k: &Keys<K>) {
    g.bench_function(BenchmarkId::new("delete", M::IMPL), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut m = M::build(&k.insert);
                let t = Instant::now();
                for key in &k.hit {
                    black_box(m.del(key));
                }
                total += t.elapsed();
                assert_eq!(m.size(), 0);
                drop(m);
            }
            total
        })
    });
}

/// The five phases of one key type, each across the four Rust implementations.
fn map_family<K: Clone + Hash + Eq + KeyBits>(c: &mut Criterion, name: &str, k: &Keys<K>) {
    let mut g = group(c, name);
    macro_rules! each_impl {
        ($f:ident $(, $arg:expr)*) => {
            $f::<K, Ours<K>>(&mut g $(, $arg)*);
            $f::<K, OursBucket<K>>(&mut g $(, $arg)*);
            $f::<K, Hashbrown<K>>(&mut g $(, $arg)*);
            $f::<K, Std<K>>(&mut g $(, $arg)*);
        };
    }
    each_impl!(insert, k);
    each_impl!(lookups, "hit", k, &k.hit, N);
    each_impl!(lookups, "miss", k, &k.miss, 0);
    each_impl!(iterate, k);
    each_impl!(delete, k);
    g.finish();
}

fn map_u64(c: &mut Criterion) {
    map_family(c, "map_u64", &u64_keys(N));
}

fn map_str16(c: &mut Criterion) {
    map_family(c, "map_str16", &str16_keys(N));
}

fn growslice(c: &mut Criterion) {
    let mut g = group(c, "growslice");
    type Append = fn(usize) -> Vec<u64>;
    for (name, append) in [("ours", append_ours as Append), ("std", append_std)] {
        g.bench_function(BenchmarkId::new("append_u64", name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let v = black_box(append(N));
                    total += t.elapsed();
                    drop(v);
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = maps;
    config = config();
    targets = map_u64, map_str16, growslice
}
criterion_main!(maps);
