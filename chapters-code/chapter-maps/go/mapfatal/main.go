// Command mapfatal writes one map from two goroutines until the runtime notices. Go does not
// panic: it prints "fatal error: concurrent map writes" and exits with status 2, and recover
// cannot stop it.
package main

import "sync"

func main() {
	defer func() { recover() }() // useless on purpose: a fatal error is not a panic
	m := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				m[i%1024] = i
			}
		}()
	}
	wg.Wait()
}
