# cond_wait_signal: condition variable with the mutex held (no race). The format has no
# loop on a condition: with one Signal and no spurious wakeups, Go's for loop runs its body
# at most once, so it is written as an if.
var ready
mutex mu
cond cv mu

func main {
    go g
    lock mu
    if ready == 0 { @check
        condwait cv
    }
    unlock mu
    read ready @use
}

func g {
    lock mu
    write ready @set
    signal cv
    unlock mu
}
