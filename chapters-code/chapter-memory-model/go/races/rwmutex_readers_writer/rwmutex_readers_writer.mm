# rwmutex_readers_writer: readers under RLock, a writer under Lock (no race).
var x
rwmutex rw
waitgroup wg

func main {
    wgadd wg 3
    go reader
    go writer
    go reader
    wait wg
}

func reader {
    rlock rw
    read x @read
    runlock rw
    done wg
}

func writer {
    lock rw
    write x @write
    unlock rw
    done wg
}
