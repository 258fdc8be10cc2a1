# unbuffered_handoffs: two handoffs on one unbuffered channel, ordered in time by a Cond but
# not by happens-before (race). Each handoff orders its two sides only: racesync's first
# racerelease replaces the channel's clock, so no history carries over.
var x
chan c 0
mutex mu
cond cv mu

func main {
    go sender
    lock mu
    go first
    condwait cv
    unlock mu
    go second
    send c
    read x @B
}

func sender {
    write x @A
    send c
}

func first {
    lock mu
    unlock mu
    recv c
    signal cv
}

func second {
    recv c
}
