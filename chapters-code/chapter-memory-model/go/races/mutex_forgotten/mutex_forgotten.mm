# mutex_forgotten: one writer takes the mutex, the other does not (race).
var x
mutex mu
waitgroup wg

func main {
    wgadd wg 2
    go careful
    go careless
    wait wg
}

func careful {
    lock mu
    write x @locked
    unlock mu
    done wg
}

func careless {
    write x 2 @unlocked
    done wg
}
