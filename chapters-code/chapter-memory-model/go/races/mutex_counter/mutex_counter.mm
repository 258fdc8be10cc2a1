# mutex_counter: two increments under one mutex, read after Wait (no race).
var n
mutex mu
waitgroup wg

func main {
    wgadd wg 2
    go inc
    go inc
    wait wg
    read n @read
}

func inc {
    lock mu
    read n @inc
    write n @inc
    unlock mu
    done wg
}
