//! Chapter "allocator": Go's allocator as rebuilt in `chapter_allocator` (impl `ours`: its
//! `mallocgc` and `freegc` on the process heap `MHEAP`, through each thread's own mcache),
//! against glibc's malloc (`glibc`: `std::alloc::System`), mimalloc (`mimalloc`) and, in
//! `go/allocator_test.go`, Go's own allocator.
//!
//! Bench ids are `<group>/<phase>/<impl>`; the Go twin is `Benchmark_<group>/<phase>`. One
//! criterion iteration is one operation per thread: free the oldest object of a sliding window
//! of `WINDOW` live objects and allocate a new one of the same size, writing its first byte.
//! `cargo xtask bench` divides by the throughput (the number of threads) to report ns per
//! operation. The window is filled before the clock starts and emptied after it stops.
//!
//! What the Go rows measure is not quite the same thing: Go has no free, so its operation is
//! the allocation alone (`make`, which also zeroes the object when its memory was used before)
//! plus its share of the garbage collections that find the dropped objects; see
//! `go/allocator_test.go`.
//!
//! The bench binary itself runs on the system allocator: every row calls its allocator
//! directly, with the layout (size, align 8) that `Box<[u64]>` would pass.
//!
//! The resident memory of a longer mixed workload is measured by the `rss_*` examples, not
//! here (see `benches::mixed_workload`).

mod common;
use common::config;
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Barrier;
use std::time::Instant;

/// Objects live in one window (Go: `window` in `go/allocator_test.go`).
const WINDOW: usize = 1000;

/// The object sizes of `alloc_window`, each a phase.
const SIZES: &[usize] = &[16, 64, 256, 4096];

/// The thread counts of `alloc_threads`, each a phase `t<n>`; every thread runs the 64-byte
/// window.
const THREADS: &[usize] = &[1, 2, 4];

/// One allocator under test, called with the same size and alignment for an object's
/// allocation and its free.
trait Alloc: Sync {
    /// The column name in the results (`impl` in the JSON).
    const IMPL: &'static str;

    /// `size` bytes aligned to 8; never null.
    fn alloc(size: usize) -> *mut u8;

    /// # Safety
    /// `p` came from `alloc(size)` and is not used again.
    unsafe fn free(p: *mut u8, size: usize);
}

const ALIGN: usize = 8;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, ALIGN).unwrap()
}

/// `ours`: the chapter's mallocgc and freegc.
struct Ours;

impl Alloc for Ours {
    const IMPL: &'static str = "ours";

    #[inline]
    fn alloc(size: usize) -> *mut u8 {
        let p = chapter_allocator::malloc::mallocgc(&chapter_allocator::MHEAP, size, ALIGN);
        assert!(!p.is_null(), "ours: out of memory");
        p
    }

    #[inline]
    unsafe fn free(p: *mut u8, size: usize) {
        // SAFETY: forwarded from our caller.
        unsafe { chapter_allocator::malloc::freegc(&chapter_allocator::MHEAP, p, size, ALIGN) }
    }
}

/// A `GlobalAlloc` as an impl: `glibc` (`System`, which is malloc and free for these
/// layouts) and `mimalloc`.
macro_rules! global_alloc {
    ($ty:ident, $name:literal, $alloc:expr) => {
        struct $ty;

        impl Alloc for $ty {
            const IMPL: &'static str = $name;

            #[inline]
            fn alloc(size: usize) -> *mut u8 {
                // SAFETY: size is not zero.
                let p = unsafe { GlobalAlloc::alloc(&$alloc, layout(size)) };
                assert!(!p.is_null(), concat!($name, ": out of memory"));
                p
            }

            #[inline]
            unsafe fn free(p: *mut u8, size: usize) {
                // SAFETY: forwarded from our caller: p came from alloc with this layout.
                unsafe { GlobalAlloc::dealloc(&$alloc, p, layout(size)) }
            }
        }
    };
}

global_alloc!(Glibc, "glibc", System);
global_alloc!(Mimalloc, "mimalloc", mimalloc::MiMalloc);

/// A sliding window of `WINDOW` live objects of one size.
struct Window<A: Alloc> {
    ring: Vec<*mut u8>,
    oldest: usize,
    size: usize,
    _alloc: std::marker::PhantomData<A>,
}

impl<A: Alloc> Window<A> {
    fn new(size: usize) -> Self {
        let ring = (0..WINDOW)
            .map(|_| {
                let p = A::alloc(size);
                // SAFETY: p holds size ≥ 1 bytes.
                unsafe { p.write(1) };
                p
            })
            .collect();
        Window {
            ring,
            oldest: 0,
            size,
            _alloc: std::marker::PhantomData,
        }
    }

    /// `n` operations: free the oldest object, allocate its replacement, write its first byte.
    #[inline]
    fn run(&mut self, n: u64) {
        for _ in 0..n {
            let slot = &mut self.ring[self.oldest];
            // SAFETY: each slot holds a live object of `size` bytes from A.
            unsafe { A::free(*slot, self.size) };
            let p = A::alloc(self.size);
            // SAFETY: p holds size ≥ 1 bytes.
            unsafe { p.write(self.oldest as u8) };
            *slot = p;
            self.oldest += 1;
            if self.oldest == WINDOW {
                self.oldest = 0;
            }
        }
        black_box(&self.ring);
    }
}

impl<A: Alloc> Drop for Window<A> {
    fn drop(&mut self) {
        for &p in &self.ring {
            // SAFETY: each slot holds a live object of `size` bytes from A.
            unsafe { A::free(p, self.size) };
        }
    }
}

/// `alloc_window/<size>`: one thread, one window; ns per operation.
fn window_phase<A: Alloc>(g: &mut BenchmarkGroup<WallTime>, size: usize) {
    g.bench_function(BenchmarkId::new(size.to_string(), A::IMPL), |b| {
        let mut w = Window::<A>::new(size);
        b.iter_custom(|iters| {
            let t = Instant::now();
            w.run(iters);
            t.elapsed()
        });
    });
}

fn alloc_window(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc_window");
    g.throughput(Throughput::Elements(1));
    for &size in SIZES {
        window_phase::<Ours>(&mut g, size);
        window_phase::<Glibc>(&mut g, size);
        window_phase::<Mimalloc>(&mut g, size);
    }
    g.finish();
}

/// `alloc_threads/t<n>`: `n` threads, each with its own 64-byte window, each doing `iters`
/// operations at once; the wall time from the moment they are all released until the last one
/// is done, per operation of all threads (an iteration is one operation on each thread, so
/// perfect scaling halves the number from t1 to t2). Each thread fills its window before the
/// start line and empties it after the finish line, both off the clock.
fn threads_phase<A: Alloc>(g: &mut BenchmarkGroup<WallTime>, threads: usize) {
    g.throughput(Throughput::Elements(threads as u64));
    g.bench_function(BenchmarkId::new(format!("t{threads}"), A::IMPL), |b| {
        b.iter_custom(|iters| {
            let start = Barrier::new(threads + 1);
            let finish = Barrier::new(threads + 1);
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        let mut w = Window::<A>::new(64);
                        start.wait();
                        w.run(iters);
                        finish.wait();
                        drop(w);
                    });
                }
                start.wait();
                let t = Instant::now();
                finish.wait();
                t.elapsed()
            })
        });
    });
}

fn alloc_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc_threads");
    for &threads in THREADS {
        threads_phase::<Ours>(&mut g, threads);
        threads_phase::<Glibc>(&mut g, threads);
        threads_phase::<Mimalloc>(&mut g, threads);
    }
    g.finish();
}

criterion_group! {
    name = allocator;
    config = config();
    targets = alloc_window, alloc_threads
}
criterion_main!(allocator);
