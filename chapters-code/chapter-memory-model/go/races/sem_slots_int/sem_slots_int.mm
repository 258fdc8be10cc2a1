# sem_slots_int: receive 1 comes before send 2 in time, but only the mutex orders anything
# (race: slot 1 knows nothing of receive 1).
var x
chan c 2
mutex mu
cond cv mu

func main {
    send c
    lock mu
    go signaler
    condwait cv
    unlock mu
    send c
    read x @B
}

func signaler {
    lock mu
    unlock mu
    write x @A
    recv c
    signal cv
}
