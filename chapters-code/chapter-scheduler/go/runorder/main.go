// Command runorder shows in which order one P runs the goroutines it is handed. With
// GOMAXPROCS=1 there is a single P: `go f()` puts the new G in the P's runnext slot, and the G
// that was there before moves to the tail of the P's local run queue. When the spawner blocks,
// the scheduler takes runnext first and then the local queue in FIFO order, so the last G
// spawned runs first and the others follow in spawn order.
//
// Each pattern prints one line: its name, then the labels in the order they ran. A label is
// written into a slot picked with an atomic counter, and the line is printed only after the
// WaitGroup says every goroutine is done (which orders those writes before the reads).
package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// trace records labels in the order they happen.
type trace struct {
	n      atomic.Int32
	labels [64]string
}

func (t *trace) add(label string) { t.labels[t.n.Add(1)-1] = label }

func (t *trace) String() string { return strings.Join(t.labels[:t.n.Load()], " ") }

// spawn10: main starts goroutines 0..9, then blocks in wg.Wait.
func spawn10() string {
	var t trace
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.add(fmt.Sprint(i))
		}()
	}
	wg.Wait()
	return t.String()
}

// gosched: main starts 0..4, yields with runtime.Gosched (main goes to the global run queue,
// behind nothing), records M when it runs again, starts 5..9 and blocks.
func gosched() string {
	var t trace
	var wg sync.WaitGroup
	spawn := func(from, to int) {
		for i := from; i < to; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.add(fmt.Sprint(i))
			}()
		}
	}
	spawn(0, 5)
	runtime.Gosched()
	t.add("M")
	spawn(5, 10)
	wg.Wait()
	return t.String()
}

// nested: main starts parents p0, p1, p2; each parent records itself and starts two children
// c<parent><child>. A child started by a parent lands in runnext and pushes the previous runnext
// G to the tail of the local queue.
func nested() string {
	var t trace
	var wg sync.WaitGroup
	for p := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.add(fmt.Sprintf("p%d", p))
			for c := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					t.add(fmt.Sprintf("c%d%d", p, c))
				}()
			}
		}()
	}
	wg.Wait()
	return t.String()
}

// chain: main starts 0..4, then blocks on a channel; goroutine 2 wakes main with a send. The
// woken G goes to runnext of the waker's P, so main runs right after 2 finishes and before 3,
// records M and starts 5 (now in runnext, ahead of 3), then blocks in wg.Wait.
func chain() string {
	var t trace
	var wg sync.WaitGroup
	wake := make(chan struct{})
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.add(fmt.Sprint(i))
			if i == 2 {
				wake <- struct{}{}
			}
		}()
	}
	<-wake
	t.add("M")
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.add("5")
	}()
	wg.Wait()
	return t.String()
}

func main() {
	runtime.GOMAXPROCS(1)
	for _, p := range []struct {
		name string
		run  func() string
	}{{"spawn10", spawn10}, {"gosched", gosched}, {"nested", nested}, {"chain", chain}} {
		// A G that has held the P for 10ms is preempted by sysmon and sent to the global
		// queue, which would reorder everything. main has been running since the program
		// started; yielding once gives each pattern a fresh time slice (a few microseconds
		// of work against a 10ms slice).
		runtime.Gosched()
		fmt.Printf("%s: %s\n", p.name, p.run())
	}
}
