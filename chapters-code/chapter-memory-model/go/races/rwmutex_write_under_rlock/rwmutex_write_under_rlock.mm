# rwmutex_write_under_rlock: a write under RLock races with another reader (race).
var x
rwmutex rw
waitgroup wg

func main {
    wgadd wg 2
    go reader
    go sneaky
    wait wg
}

func reader {
    rlock rw
    read x @read
    runlock rw
    done wg
}

func sneaky {
    rlock rw
    write x @write
    runlock rw
    done wg
}
