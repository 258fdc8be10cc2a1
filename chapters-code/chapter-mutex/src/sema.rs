//! Go: runtime/sema.go — the semaphore that sync.Mutex sleeps on.
//!
//! Counting is not the point. What sync needs is sleep and wake-up that cannot miss each
//! other: each release lets exactly one acquire through, and a release that comes first is
//! banked in the count rather than lost (the design of Mullender and Cox's Plan 9
//! semaphores). The count is a `u32` owned by the caller (a Mutex's `sema`); the runtime
//! keeps, per address, a queue of the goroutines asleep on it.
//!
//! Those queues live in [`SEMTABLE`]: 251 [`SemaRoot`]s, one cache line each, picked by
//! `(addr >> 3) % 251`. Within a root, a [`Treap`] is keyed by address, one node per
//! *distinct* address; the node is that address's first [`Sudog`], and the rest queue
//! behind it in a FIFO list (`waitlink`, `waittail`). So many waiters on one address cost
//! nothing extra to find: the tree search is O(log n) in addresses, the list operations O(1)
//! (golang.org/issue/17953 is the program that was slow before this two-level layout).
//!
//! Functions: [`semacquire1`], [`semrelease1`], [`cansemacquire`], `semaRoot.queue`
//! ([`Treap::queue`]), `semaRoot.dequeue` ([`Treap::dequeue`]), `rotateLeft`, `rotateRight`.
//! Not reproduced: block and mutex profiling (`blockevent`, `mutexevent`; Go's defaults
//! leave them off), so `acquiretime` is carried through the treap exactly as Go does but
//! never set, and `s.g.waiting` (for the goroutine-leak checker) does not exist.

use crate::park::{goyield, runtime_lock, runtime_nanotime, RuntimeLocked, Waiter};
use crate::sync::{AtomicU32, Mutex};
use chapter_scheduler::WaitReason;
use std::ptr::null_mut;
use std::sync::atomic::Ordering::SeqCst;

// ANCHOR: sudog
/// Go: sudog (runtime2.go), the fields sema.go uses. A sudog is a goroutine's entry in a
/// wait queue. Go allocates them from a per-P cache; here each lives on its waiter's stack,
/// which is safe because the waiter is parked for as long as the sudog is linked in.
pub struct Sudog {
    /// Who to wake (Go: `g`).
    pub g: Waiter,
    /// Tree links: children and parent in the treap of distinct addresses.
    pub(crate) prev: *mut Sudog,
    pub(crate) next: *mut Sudog,
    pub(crate) parent: *mut Sudog,
    /// The rest of this address's queue, and its last element (Go: waitlink, waittail).
    pub(crate) waitlink: *mut Sudog,
    pub(crate) waittail: *mut Sudog,
    /// The semaphore's address (Go: `elem`).
    pub(crate) elem: usize,
    /// The treap priority while in the tree; set to 1 by a hand-off (`semrelease1`).
    pub ticket: u32,
    /// For profiling: how many others wait behind this head (an approximation; see queue).
    pub(crate) waiters: u16,
    pub(crate) acquiretime: i64,
}
// ANCHOR_END: sudog

impl Sudog {
    /// Go: acquireSudog, for the caller.
    pub fn new(g: Waiter) -> Sudog {
        Sudog {
            g,
            prev: null_mut(),
            next: null_mut(),
            parent: null_mut(),
            waitlink: null_mut(),
            waittail: null_mut(),
            elem: 0,
            ticket: 0,
            waiters: 0,
            acquiretime: 0,
        }
    }
}

/// Go: cheaprand, for treap priorities. A global splitmix64 stream: the slow path only.
#[inline(never)]
fn cheaprand() -> u32 {
    // std's atomic even under loom: the priorities shape the tree, never the interleaving.
    static STATE: std::sync::atomic::AtomicU64 =
        std::sync::atomic::AtomicU64::new(0x853c_49e6_748f_ea9b);
    let mut z = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, SeqCst);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

// ANCHOR: treap
/// Go: semaRoot.treap, the part of a root its lock guards. A search tree on `elem` whose
/// nodes also form a min-heap on `ticket`; tickets are random, so the shape is that of a
/// randomly built tree, shallow on average whatever the order of addresses.
///
/// Every method takes raw sudog pointers. The caller guarantees they point to live sudogs
/// that nobody else touches while they are linked in (their goroutines are parked) — which
/// is what holding the root's lock means.
pub struct Treap {
    pub treap: *mut Sudog,
}

// SAFETY: the sudogs a Treap links belong to parked waiters; only the lock holder follows
// the pointers.
unsafe impl Send for Treap {}

impl Default for Treap {
    fn default() -> Self {
        Treap::new()
    }
}

impl Treap {
    pub const fn new() -> Treap {
        Treap { treap: null_mut() }
    }

    /// Go: semaRoot.queue. Puts `s` among the waiters on `addr`: at the tail of that address's
    /// list, or with `lifo` at its head — which, since the head *is* the tree node, means
    /// putting `s` in the tree in place of the old head.
    ///
    /// # Safety
    /// `s` points to a fresh (unlinked) sudog that outlives its time in the treap; every
    /// sudog already linked is live.
    pub unsafe fn queue(&mut self, addr: usize, s: *mut Sudog, lifo: bool) {
        // An odd ticket is never 0, and 0 is what semacquire1 reads as "no hand-off".
        unsafe { self.queue_ticket(addr, s, lifo, cheaprand() | 1) }
    }

    /// [`Treap::queue`] with the random priority chosen by the caller (for tests).
    ///
    /// # Safety
    /// As for [`Treap::queue`]; `ticket` must be odd (non-zero).
    pub unsafe fn queue_ticket(&mut self, addr: usize, s: *mut Sudog, lifo: bool, ticket: u32) {
        unsafe {
            (*s).elem = addr;
            (*s).next = null_mut();
            (*s).prev = null_mut();
            (*s).waiters = 0;

            let mut last: *mut Sudog = null_mut();
            let mut pt: *mut *mut Sudog = &raw mut self.treap;
            let mut t = *pt;
            while !t.is_null() {
                if addr == (*t).elem {
                    // addr has a queue already, headed by t.
                    if lifo {
                        // s becomes the head: it takes t's tree node (links, priority).
                        *pt = s;
                        (*s).ticket = (*t).ticket;
                        (*s).acquiretime = (*t).acquiretime; // the head keeps the longest wait
                        (*s).parent = (*t).parent;
                        (*s).prev = (*t).prev;
                        (*s).next = (*t).next;
                        if !(*s).prev.is_null() {
                            (*(*s).prev).parent = s;
                        }
                        if !(*s).next.is_null() {
                            (*(*s).next).parent = s;
                        }
                        // ... and t, with its list, queues right behind s.
                        (*s).waitlink = t;
                        (*s).waittail = (*t).waittail;
                        if (*s).waittail.is_null() {
                            (*s).waittail = t;
                        }
                        (*s).waiters = (*t).waiters;
                        // Go stops counting at the u16 maximum rather than wrap.
                        (*s).waiters = (*s).waiters.saturating_add(1);
                        (*t).parent = null_mut();
                        (*t).prev = null_mut();
                        (*t).next = null_mut();
                        (*t).waittail = null_mut();
                    } else {
                        // FIFO: s joins the end of t's list.
                        if (*t).waittail.is_null() {
                            (*t).waitlink = s;
                        } else {
                            (*(*t).waittail).waitlink = s;
                        }
                        (*t).waittail = s;
                        (*s).waitlink = null_mut();
                        (*t).waiters = (*t).waiters.saturating_add(1);
                    }
                    return;
                }
                last = t;
                pt = if addr < (*t).elem {
                    &raw mut (*t).prev
                } else {
                    &raw mut (*t).next
                };
                t = *pt;
            }

            // ANCHOR: treap_insert
            // A new address: s hangs off `last` as a leaf, then climbs by rotations while its
            // parent's priority is larger than its own, restoring the heap order.
            (*s).ticket = ticket;
            (*s).parent = last;
            *pt = s;
            while !(*s).parent.is_null() && (*(*s).parent).ticket > (*s).ticket {
                if (*(*s).parent).prev == s {
                    self.rotate_right((*s).parent);
                } else {
                    if (*(*s).parent).next != s {
                        crate::throw("semaRoot queue");
                    }
                    self.rotate_left((*s).parent);
                }
            }
            // ANCHOR_END: treap_insert
        }
    }

    /// Go: semaRoot.dequeue. Takes the first waiter on `addr` out, or returns null. If
    /// others wait on `addr`, the next one takes the head's place in the tree; otherwise the
    /// head is rotated down to a leaf and cut off. Also returns (now, tailtime) for the
    /// mutex profile, as Go does.
    ///
    /// # Safety
    /// Every linked sudog is live.
    pub unsafe fn dequeue(&mut self, addr: usize) -> (*mut Sudog, i64, i64) {
        unsafe {
            let mut ps: *mut *mut Sudog = &raw mut self.treap;
            let mut s = *ps;
            while !s.is_null() {
                if addr == (*s).elem {
                    break;
                }
                ps = if addr < (*s).elem {
                    &raw mut (*s).prev
                } else {
                    &raw mut (*s).next
                };
                s = *ps;
            }
            if s.is_null() {
                return (null_mut(), 0, 0);
            }

            let mut now = 0i64;
            if (*s).acquiretime != 0 {
                now = runtime_nanotime(); // Go: cputicks
            }
            let tailtime;
            let t = (*s).waitlink;
            if !t.is_null() {
                // s has followers: the next one, t, inherits s's place in the tree.
                *ps = t;
                (*t).ticket = (*s).ticket;
                (*t).parent = (*s).parent;
                (*t).prev = (*s).prev;
                if !(*t).prev.is_null() {
                    (*(*t).prev).parent = t;
                }
                (*t).next = (*s).next;
                if !(*t).next.is_null() {
                    (*(*t).next).parent = t;
                }
                if !(*t).waitlink.is_null() {
                    (*t).waittail = (*s).waittail;
                } else {
                    (*t).waittail = null_mut();
                }
                (*t).waiters = (*s).waiters;
                if (*t).waiters > 1 {
                    (*t).waiters -= 1;
                }
                // Profiling would charge the wait up to `now`; restart both ends' clocks so
                // that the next dequeue does not charge it again.
                (*t).acquiretime = now;
                tailtime = (*(*s).waittail).acquiretime;
                (*(*s).waittail).acquiretime = now;
                (*s).waitlink = null_mut();
                (*s).waittail = null_mut();
            } else {
                // s was alone on addr: push it down, always lifting the child with the
                // smaller priority, until it is a leaf that can simply be cut off.
                while !(*s).next.is_null() || !(*s).prev.is_null() {
                    if (*s).next.is_null()
                        || !(*s).prev.is_null() && (*(*s).prev).ticket < (*(*s).next).ticket
                    {
                        self.rotate_right(s);
                    } else {
                        self.rotate_left(s);
                    }
                }
                // Cut the leaf off.
                if !(*s).parent.is_null() {
                    if (*(*s).parent).prev == s {
                        (*(*s).parent).prev = null_mut();
                    } else {
                        (*(*s).parent).next = null_mut();
                    }
                } else {
                    self.treap = null_mut();
                }
                tailtime = (*s).acquiretime;
            }
            (*s).parent = null_mut();
            (*s).elem = 0;
            (*s).next = null_mut();
            (*s).prev = null_mut();
            (*s).ticket = 0;
            (s, now, tailtime)
        }
    }

    /// Go: rotateLeft. x's right child y takes x's place; x becomes y's left child and
    /// adopts y's old left subtree b. In s-expressions: (x a (y b c)) → (y (x a b) c).
    unsafe fn rotate_left(&mut self, x: *mut Sudog) {
        unsafe {
            let p = (*x).parent;
            let y = (*x).next;
            let b = (*y).prev;

            (*y).prev = x;
            (*x).parent = y;
            (*x).next = b;
            if !b.is_null() {
                (*b).parent = x;
            }

            (*y).parent = p;
            if p.is_null() {
                self.treap = y;
            } else if (*p).prev == x {
                (*p).prev = y;
            } else {
                if (*p).next != x {
                    crate::throw("semaRoot rotateLeft");
                }
                (*p).next = y;
            }
        }
    }

    /// Go: rotateRight, the mirror image: y's left child x takes y's place, and y adopts
    /// x's old right subtree b. (y (x a b) c) → (x a (y b c)).
    unsafe fn rotate_right(&mut self, y: *mut Sudog) {
        unsafe {
            let p = (*y).parent;
            let x = (*y).prev;
            let b = (*x).next;

            (*x).next = y;
            (*y).parent = x;
            (*y).prev = b;
            if !b.is_null() {
                (*b).parent = y;
            }

            (*x).parent = p;
            if p.is_null() {
                self.treap = x;
            } else if (*p).prev == y {
                (*p).prev = x;
            } else {
                if (*p).next != y {
                    crate::throw("semaRoot rotateRight");
                }
                (*p).next = x;
            }
        }
    }
}
// ANCHOR_END: treap

// ANCHOR: semtable
/// Go: semaRoot. `lock` is Go's runtime `mutex`, a futex lock that also disables
/// preemption: a std Mutex taken through [`runtime_lock`], which does both.
pub struct SemaRoot {
    pub lock: Mutex<Treap>,
    /// Go: nwait. How many callers are queued, or about to queue, on this root; semrelease1
    /// reads it before taking the lock, to skip the lock when nobody can be asleep.
    pub nwait: AtomicU32,
}

impl SemaRoot {
    #[cfg(not(loom))]
    const fn new() -> SemaRoot {
        SemaRoot {
            lock: Mutex::new(Treap::new()),
            nwait: AtomicU32::new(0),
        }
    }
    #[cfg(loom)]
    fn new() -> SemaRoot {
        SemaRoot {
            lock: Mutex::new(Treap::new()),
            nwait: AtomicU32::new(0),
        }
    }

    fn lock(&self) -> RuntimeLocked<'_, Treap> {
        runtime_lock(&self.lock)
    }
}

/// Go: SEM_TAB_SIZE. A prime, so that regular strides in user addresses still spread across
/// the roots.
pub const SEM_TAB_SIZE: usize = 251;

/// A root padded to a cache line (Go: `pad [cpu.CacheLinePadSize - unsafe.Sizeof(semaRoot{})]byte`;
/// 64 bytes on amd64, 128 on arm64), so that roots in use by different CPUs do not share one.
#[cfg_attr(target_arch = "aarch64", repr(align(128)))]
#[cfg_attr(not(target_arch = "aarch64"), repr(align(64)))]
pub struct PaddedRoot {
    pub root: SemaRoot,
}

/// Go: semTable.
#[cfg(not(loom))]
pub struct SemTable([PaddedRoot; SEM_TAB_SIZE]);
/// Under loom, 2 roots made afresh for every execution: fewer objects for loom to track, and
/// semaphores of one model share a root as often as not, with several addresses in its treap.
#[cfg(loom)]
pub struct SemTable(Vec<PaddedRoot>);

impl SemTable {
    /// Go: rootFor.
    pub fn root_for(&self, addr: &AtomicU32) -> &SemaRoot {
        &self.0[((addr as *const AtomicU32 as usize) >> 3) % self.0.len()].root
    }
}

/// Go: semtable, the process-wide table every semaphore hashes into.
#[cfg(not(loom))]
pub static SEMTABLE: SemTable = SemTable(
    [const {
        PaddedRoot {
            root: SemaRoot::new(),
        }
    }; SEM_TAB_SIZE],
);
#[cfg(loom)]
loom::lazy_static! {
    pub static ref SEMTABLE: SemTable =
        SemTable((0..2).map(|_| PaddedRoot { root: SemaRoot::new() }).collect());
}
// ANCHOR_END: semtable

// ANCHOR: cansemacquire
/// Go: cansemacquire. Takes one unit of the count if there is one.
pub fn cansemacquire(addr: &AtomicU32) -> bool {
    let mut v = addr.load(SeqCst);
    loop {
        if v == 0 {
            return false;
        }
        match addr.compare_exchange(v, v - 1, SeqCst, SeqCst) {
            Ok(_) => return true,
            Err(cur) => v = cur,
        }
    }
}
// ANCHOR_END: cansemacquire

/// Go: semacquire, as the runtime calls it.
pub fn semacquire(addr: &AtomicU32) {
    semacquire1(addr, false, WaitReason::Semacquire)
}

/// Go: semrelease.
pub fn semrelease(addr: &AtomicU32) {
    semrelease1(addr, false)
}

/// Go: internal/sync.runtime_SemacquireMutex (sema.go's
/// internal_sync_runtime_SemacquireMutex).
pub fn runtime_semacquire_mutex(addr: &AtomicU32, lifo: bool) {
    semacquire1(addr, lifo, WaitReason::SyncMutexLock)
}

/// Go: sync.runtime_SemacquireRWMutexR, for a reader waiting out a writer.
pub fn runtime_semacquire_rwmutex_r(addr: &AtomicU32) {
    semacquire1(addr, false, WaitReason::SyncRWMutexRLock)
}

/// Go: sync.runtime_SemacquireRWMutex, for a writer waiting out the readers.
pub fn runtime_semacquire_rwmutex(addr: &AtomicU32) {
    semacquire1(addr, false, WaitReason::SyncRWMutexLock)
}

/// Go: sync.runtime_SemacquireWaitGroup (without synctest's durable blocking).
pub fn runtime_semacquire_waitgroup(addr: &AtomicU32) {
    semacquire1(addr, false, WaitReason::SyncWaitGroupWait)
}

/// Go: internal/sync.runtime_Semrelease (sema.go's internal_sync_runtime_Semrelease).
pub fn runtime_semrelease(addr: &AtomicU32, handoff: bool) {
    semrelease1(addr, handoff)
}

// ANCHOR: semacquire1
/// Go: semacquire1. Takes one unit of `*addr`, sleeping until there is one. `lifo` puts the
/// caller first in line instead of last: lockSlow asks for it when a woken waiter has lost
/// the mutex to a newcomer.
pub fn semacquire1(addr: &AtomicU32, lifo: bool, reason: WaitReason) {
    // A unit is there: take it without touching the table.
    if cansemacquire(addr) {
        return;
    }

    // Otherwise, under the root's lock: count ourselves in nwait, look at the count once
    // more, and if it is still 0 queue a sudog and park. The releaser unlinks the sudog.
    let mut sudog = Sudog::new(Waiter::current());
    // From here on the sudog is reached only through `s`: the waker writes through the same
    // pointer while we sleep.
    let s: *mut Sudog = &raw mut sudog;
    let root = SEMTABLE.root_for(addr);
    let key = addr as *const AtomicU32 as usize;
    loop {
        let mut treap = root.lock();
        // From here on a releaser cannot take its lock-free exit: it will come looking.
        root.nwait.fetch_add(1, SeqCst);
        crate::sync::loom_store_load_fence();
        // A release may have landed between the first check and nwait; catch it now.
        if cansemacquire(addr) {
            root.nwait.fetch_sub(1, SeqCst);
            drop(treap);
            break;
        }
        // Any later release sees nwait and takes the lock we hold, so it can only dequeue
        // us after we are queued: safe to sleep.
        // SAFETY: we hold the root's lock; `s` lives on our stack, and we stay parked until
        // a semrelease has unlinked it.
        unsafe {
            treap.queue(key, s, lifo);
            (*s).g.park(treap, reason);
            if (*s).ticket != 0 || cansemacquire(addr) {
                break;
            }
        }
    }
}
// ANCHOR_END: semacquire1

// ANCHOR: semrelease1
/// Go: semrelease1. Adds a unit to `*addr` and wakes the first waiter, if any. With
/// `handoff` (starvation mode's direct hand-off), the releaser also takes the unit on the
/// waiter's behalf, marks it so in `ticket`, and yields so that the waiter runs at once.
pub fn semrelease1(addr: &AtomicU32, handoff: bool) {
    // ANCHOR: solution-semrelease1
    let root = SEMTABLE.root_for(addr);
    addr.fetch_add(1, SeqCst);
    crate::sync::loom_store_load_fence();

    // Nobody counted in nwait: done. Reading it after the increment is what makes this
    // safe; an acquirer that counts itself later will see the new unit in its re-check.
    if root.nwait.load(SeqCst) == 0 {
        return;
    }

    // Someone may be asleep: find the first waiter on addr.
    let mut treap = root.lock();
    if root.nwait.load(SeqCst) == 0 {
        // Every counted waiter has left since our first read, each having taken a unit
        // itself or been dequeued by another release; our unit stays in the count.
        return;
    }
    // SAFETY: we hold the lock; linked sudogs belong to parked waiters.
    let (s, _t0, _tailtime) = unsafe { treap.dequeue(addr as *const AtomicU32 as usize) };
    if !s.is_null() {
        root.nwait.fetch_sub(1, SeqCst);
    }
    drop(treap);
    if s.is_null() {
        return;
    }
    // Waking (and perhaps yielding) happens after the unlock, to keep the critical section
    // short. (Go charges mutex-profile contention here.)
    // SAFETY: `s` is off the queue and ours until we ready it; its waiter stays parked.
    unsafe {
        if (*s).ticket != 0 {
            crate::throw("corrupted semaphore ticket");
        }
        if handoff && cansemacquire(addr) {
            (*s).ticket = 1;
        }
        // Go re-reads s.ticket after readying, which is fine for its type-stable sudogs;
        // ours lives on the waiter's stack and may be gone by then, so read it first.
        let handed_off = (*s).ticket == 1;
        Waiter::ready(&raw const (*s).g); // Go: readyWithTime
        if handed_off {
            // Hand-off: goready put the waiter in our P's runnext, so yielding runs it next
            // and on what is left of our time slice (issue 33747). Go does not yield while
            // holding runtime locks or on g0; no caller here can be in either state.
            goyield();
        }
    }
    // ANCHOR_END: solution-semrelease1
}
// ANCHOR_END: semrelease1

// ANCHOR: notifylist
/// Go: notifyList, the queue under sync.Cond. Every Wait draws a ticket from `wait`; `notify`
/// is the next ticket to be woken. Tickets below `notify` have been notified. A waiter that
/// arrives late, holding an already-notified ticket, does not sleep at all.
pub struct NotifyList {
    /// Go: wait. The next ticket to hand out (atomic: taken without the lock).
    wait: AtomicU32,
    /// Go: notify. The next ticket to notify. Written only under `lock`, read without it on
    /// the fast path.
    notify: AtomicU32,
    /// Go: lock, guarding head and tail: a list of sudogs through `next`, in the order they
    /// queued, which is almost — not exactly — ticket order.
    lock: Mutex<NotifyQueue>,
}

pub struct NotifyQueue {
    head: *mut Sudog,
    tail: *mut Sudog,
}

// SAFETY: the sudogs belong to parked waiters and are reached only under the lock.
unsafe impl Send for NotifyQueue {}

/// Go: less. Ticket order with wrap-around: a is before b if a-b is negative as an int32.
pub fn less(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Default for NotifyList {
    fn default() -> Self {
        NotifyList::new()
    }
}

impl NotifyList {
    pub fn new() -> NotifyList {
        NotifyList {
            wait: AtomicU32::new(0),
            notify: AtomicU32::new(0),
            lock: Mutex::new(NotifyQueue {
                head: null_mut(),
                tail: null_mut(),
            }),
        }
    }

    fn lock(&self) -> RuntimeLocked<'_, NotifyQueue> {
        runtime_lock(&self.lock)
    }

    /// Go: notifyListAdd. Take the next ticket. Cond.Wait calls it while still holding its
    /// lock, which orders the ticket before any Signal that lock protects.
    pub fn add(&self) -> u32 {
        self.wait.fetch_add(1, SeqCst)
    }

    /// Go: notifyListWait. Sleep until ticket `t` is notified, unless it already is.
    pub fn wait(&self, t: u32) {
        let mut q = self.lock();
        if less(t, self.notify.load(SeqCst)) {
            return;
        }
        let mut sudog = Sudog::new(Waiter::current());
        sudog.ticket = t;
        let s: *mut Sudog = &raw mut sudog;
        if q.tail.is_null() {
            q.head = s;
        } else {
            // SAFETY: under the lock; the tail is a parked waiter's sudog.
            unsafe { (*q.tail).next = s };
        }
        q.tail = s;
        // SAFETY: `s` stays linked, and we parked, until a notifier unlinks and readies it.
        unsafe { (*s).g.park(q, WaitReason::SyncCondWait) };
    }

    /// Go: notifyListNotifyAll. Notify every ticket handed out so far, and wake the queue.
    pub fn notify_all(&self) {
        // No ticket handed out since the last notification: nothing to do, and no lock.
        if self.wait.load(SeqCst) == self.notify.load(SeqCst) {
            return;
        }
        let mut q = self.lock();
        let mut s = q.head;
        q.head = null_mut();
        q.tail = null_mut();
        self.notify.store(self.wait.load(SeqCst), SeqCst);
        drop(q);
        // Wake them outside the lock. Each waiter may vanish once readied: read next first.
        while !s.is_null() {
            // SAFETY: unlinked above; each sudog's waiter is parked until readied.
            unsafe {
                let next = (*s).next;
                (*s).next = null_mut();
                Waiter::ready(&raw const (*s).g);
                s = next;
            }
        }
    }

    /// Go: notifyListNotifyOne. Notify the oldest unnotified ticket, and wake its waiter if
    /// it is already queued (if not, it will find the ticket notified and not sleep).
    pub fn notify_one(&self) {
        if self.wait.load(SeqCst) == self.notify.load(SeqCst) {
            return;
        }
        let mut q = self.lock();
        let t = self.notify.load(SeqCst);
        if t == self.wait.load(SeqCst) {
            return;
        }
        self.notify.store(t.wrapping_add(1), SeqCst);
        // The queue is in arrival order, not ticket order (a waiter may be descheduled
        // between add and wait), so look for ticket t.
        let (mut p, mut s) = (null_mut::<Sudog>(), q.head);
        // SAFETY: under the lock; queued sudogs belong to parked waiters.
        unsafe {
            while !s.is_null() {
                if (*s).ticket == t {
                    let n = (*s).next;
                    if p.is_null() {
                        q.head = n;
                    } else {
                        (*p).next = n;
                    }
                    if n.is_null() {
                        q.tail = p;
                    }
                    drop(q);
                    (*s).next = null_mut();
                    Waiter::ready(&raw const (*s).g);
                    return;
                }
                p = s;
                s = (*s).next;
            }
        }
    }
}
// ANCHOR_END: notifylist

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, VecDeque};

    #[test]
    fn roots_fill_a_cache_line_each() {
        let line = if cfg!(target_arch = "aarch64") {
            128
        } else {
            64
        };
        assert_eq!(std::mem::size_of::<PaddedRoot>() % line, 0);
        assert_eq!(std::mem::align_of::<PaddedRoot>(), line);
    }

    #[test]
    fn neighbouring_words_hash_to_neighbouring_roots() {
        let words: Vec<AtomicU32> = (0..4).map(|_| AtomicU32::new(0)).collect();
        let r = |i: usize| SEMTABLE.root_for(&words[i]) as *const SemaRoot as usize;
        // (addr >> 3): two u32s in one 8-byte word share a root.
        let base = &words[0] as *const AtomicU32 as usize;
        if base.is_multiple_of(8) {
            assert_eq!(r(0), r(1));
            assert_ne!(r(1), r(2));
        }
    }

    #[test]
    fn a_count_released_before_the_acquire_is_not_lost() {
        let sema = AtomicU32::new(0);
        semrelease(&sema);
        semacquire(&sema); // must not sleep
        assert_eq!(sema.load(SeqCst), 0);
    }

    // ---- The treap alone, against a model --------------------------------------------

    /// Walks the tree under `t`, checking every invariant, and collects each address's
    /// queue (head, then its `waitlink` chain) as sudog pointers.
    unsafe fn check(
        t: *mut Sudog,
        parent: *mut Sudog,
        lo: usize,
        hi: usize,
        out: &mut BTreeMap<usize, Vec<*const Sudog>>,
    ) {
        if t.is_null() {
            return;
        }
        unsafe {
            let n = &*t;
            assert_eq!(n.parent, parent, "parent link");
            assert!(lo <= n.elem && n.elem < hi, "binary search tree order");
            assert!(n.ticket & 1 == 1, "tree nodes have odd tickets");
            if !parent.is_null() {
                assert!((*parent).ticket <= n.ticket, "heap order on tickets");
            }
            let mut list = vec![t as *const Sudog];
            let mut w = n.waitlink;
            let mut last = t;
            while !w.is_null() {
                assert!((*w).parent.is_null() && (*w).prev.is_null() && (*w).next.is_null());
                list.push(w);
                last = w;
                w = (*w).waitlink;
            }
            if n.waitlink.is_null() {
                assert!(n.waittail.is_null(), "a lone head has no tail");
            } else {
                assert_eq!(n.waittail, last, "waittail is the last of the list");
            }
            // Go's count of waiters behind the head never undercounts (it may overcount:
            // dequeue decrements it only above 1).
            assert!(n.waiters as usize >= list.len() - 1);
            assert!(out.insert(n.elem, list).is_none(), "addresses are distinct");
            check(n.prev, t, lo, n.elem, out);
            check(n.next, t, n.elem + 1, hi, out);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Queue {
            addr: usize,
            lifo: bool,
            ticket: u32,
        },
        Dequeue {
            addr: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let addr = (0usize..6).prop_map(|a| 0x1000 + 8 * a);
        prop_oneof![
            3 => (addr.clone(), any::<bool>(), any::<u32>())
                .prop_map(|(addr, lifo, t)| Op::Queue { addr, lifo, ticket: t | 1 }),
            2 => addr.prop_map(|addr| Op::Dequeue { addr }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        // ANCHOR: treap_proptest
        /// Any sequence of queue/dequeue keeps a valid treap (BST by address, heap by ticket,
        /// consistent parent links, distinct addresses), and each address's list behaves as
        /// a deque: `queue` appends, `queue(lifo)` prepends, `dequeue` takes the front.
        #[test]
        fn the_treap_is_a_map_of_deques(ops in proptest::collection::vec(op(), 1..200)) {
            let mut treap = Treap::new();
            // The model: each address's waiters, as indices into `sudogs`.
            let mut model: BTreeMap<usize, VecDeque<usize>> = BTreeMap::new();
            // Raw pointers from Box::into_raw, freed when the case ends: the treap and the
            // test both point into the boxes, so no Box may be moved or borrowed meanwhile.
            struct Sudogs(Vec<*mut Sudog>);
            impl Drop for Sudogs {
                fn drop(&mut self) {
                    // SAFETY: each pointer came from Box::into_raw, once.
                    self.0.drain(..).for_each(|p| drop(unsafe { Box::from_raw(p) }));
                }
            }
            let mut sudogs = Sudogs(Vec::new());
            for op in ops {
                match op {
                    Op::Queue { addr, lifo, ticket } => {
                        let sp = Box::into_raw(Box::new(Sudog::new(Waiter::current())));
                        sudogs.0.push(sp);
                        // SAFETY: the boxes outlive the treap; each is queued once.
                        unsafe { treap.queue_ticket(addr, sp, lifo, ticket) };
                        let q = model.entry(addr).or_default();
                        if lifo { q.push_front(sudogs.0.len() - 1) } else { q.push_back(sudogs.0.len() - 1) }
                    }
                    Op::Dequeue { addr } => {
                        // SAFETY: as above.
                        let (s, _, _) = unsafe { treap.dequeue(addr) };
                        let want = model.get_mut(&addr).and_then(|q| q.pop_front());
                        if model.get(&addr).is_some_and(|q| q.is_empty()) {
                            model.remove(&addr);
                        }
                        match want {
                            None => prop_assert!(s.is_null()),
                            Some(i) => {
                                prop_assert!(std::ptr::eq(s, sudogs.0[i]), "dequeue takes the front");
                                let s = unsafe { &*s };
                                prop_assert!(s.parent.is_null() && s.prev.is_null() && s.next.is_null());
                                prop_assert!(s.waitlink.is_null() && s.waittail.is_null());
                                prop_assert_eq!(s.ticket, 0);
                            }
                        }
                    }
                }
                let mut got = BTreeMap::new();
                // SAFETY: as above.
                unsafe { check(treap.treap, null_mut(), 0, usize::MAX, &mut got) };
                let want: BTreeMap<usize, Vec<*const Sudog>> = model
                    .iter()
                    .map(|(a, q)| (*a, q.iter().map(|&i| sudogs.0[i] as *const Sudog).collect()))
                    .collect();
                prop_assert_eq!(got, want);
            }
        }
        // ANCHOR_END: treap_proptest
    }
}
