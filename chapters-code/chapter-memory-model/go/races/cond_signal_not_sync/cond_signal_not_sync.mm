# cond_signal_not_sync: Signal orders nothing; the relock acquires g's Unlock, which came
# before the write (race).
var x
mutex mu
cond cv mu

func main {
    lock mu
    go g
    condwait cv
    unlock mu
    read x @B
}

func g {
    lock mu
    unlock mu
    write x @A
    signal cv
}
