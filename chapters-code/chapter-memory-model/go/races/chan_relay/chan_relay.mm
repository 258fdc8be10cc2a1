# chan_relay: send 1 -> receive 1 -> send 2 does not chain: a receive passes on the clock it
# had before it received (race).
var x
chan c 1
mutex mu
cond cv mu

func main {
    go receiver
    lock mu
    go sender
    condwait cv
    unlock mu
    send c
    read x @B
}

func sender {
    lock mu
    unlock mu
    write x @A
    send c
    signal cv
}

func receiver {
    recv c
}
