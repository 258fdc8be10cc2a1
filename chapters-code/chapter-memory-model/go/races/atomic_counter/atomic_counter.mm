# atomic_counter: atomic adds from three goroutines (no race).
atomic n
waitgroup wg

func main {
    wggo wg inc
    wggo wg inc
    wggo wg inc
    wait wg
    load n @load
}

func inc {
    add n 1 @add
}
