// Command starvation runs the experiment that made Go add starvation mode to sync.Mutex (Go
// 1.9): one goroutine, the hog, holds the mutex nearly all the time — lock, sleep 50µs, unlock,
// lock again at once — while another, the waiter, wants it now and then: 8 times, sleeping
// 100µs between takes. GOMAXPROCS is set to 2 here, whatever the machine.
//
// Without starvation mode the waiter would lose every race: Unlock wakes it, but by the time it
// runs the hog has the mutex again, so it could only finish once the hog stops (after 1000
// critical sections). With it, a waiter that has waited over 1ms marks the mutex starving, and
// the next Unlock hands the mutex straight to it. Go offers no way to turn the mode off, so
// only this side of the comparison can be measured here.
//
// The sleeps are nanosleep system calls, not time.Sleep: a timer shorter than 1ms mostly
// lasts about 1ms, because an idle M waits for timers in epoll with a timeout in whole
// milliseconds, and 1ms sections would hide how many sections the 1ms threshold lets pass.
// A system call also blocks the thread as the sleeps of the Rust oracle do (its runtime has
// no timers), so both run the same experiment.
//
// Waits are counted in the hog's critical sections, not in time, and the output is properties
// of the counts, not the counts. Each section lasts over 50µs, so the waiter passes the 1ms
// threshold within 20 sections; on an idle machine its longest wait is 9 to 13. On a busy
// one a woken waiter can sit in a run queue for several ms while the hog goes on: with two to
// four busy loops per core, longest waits of 40 to 80 sections turn up. The bound checked,
// 250, leaves room for that and is still a quarter of the 1000 sections the waiter would wait
// without starvation mode. Run with the argument "numbers" to see the counts themselves.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	maxSections = 1000 // the hog gives up after this many sections
	takes       = 8    // how many times the waiter takes the mutex
	maxWaitOK   = 250  // the bound checked on the waiter's longest wait, in sections
)

// sleep blocks the thread in a system call for d; meanwhile sysmon can hand its P to another M.
func sleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}

type shared struct {
	mu         sync.Mutex
	sections   atomic.Uint64
	waiterDone atomic.Bool
}

// hog locks, sleeps inside, unlocks, and starts over; it reports whether it gave up.
func hog(sh *shared) bool {
	for {
		sh.mu.Lock()
		n := sh.sections.Add(1)
		sleep(50 * time.Microsecond)
		sh.mu.Unlock()
		if sh.waiterDone.Load() {
			return false
		}
		if n >= maxSections {
			return true
		}
	}
}

// waiter takes the mutex now and then and returns its longest wait, in hog sections.
func waiter(sh *shared) uint64 {
	var maxWait uint64
	for range takes {
		sleep(100 * time.Microsecond)
		before := sh.sections.Load()
		sh.mu.Lock()
		maxWait = max(maxWait, sh.sections.Load()-before)
		sh.mu.Unlock()
	}
	sh.waiterDone.Store(true)
	return maxWait
}

func main() {
	runtime.GOMAXPROCS(2)
	var sh shared
	gaveUp := make(chan bool)
	go func() { gaveUp <- hog(&sh) }()
	for sh.sections.Load() < 2 { // let the hog get going first
		runtime.Gosched()
	}
	maxWait := waiter(&sh)
	hogGaveUp := <-gaveUp

	if len(os.Args) > 1 && os.Args[1] == "numbers" {
		fmt.Printf("max wait %d sections, %d sections in all, hog gave up: %t\n",
			maxWait, sh.sections.Load(), hogGaveUp)
		return
	}
	fmt.Printf("waiter finished before the hog gave up: %t\n", !hogGaveUp)
	fmt.Printf("max wait in hog sections <= %d: %t\n", maxWaitOK, maxWait <= maxWaitOK)
}
