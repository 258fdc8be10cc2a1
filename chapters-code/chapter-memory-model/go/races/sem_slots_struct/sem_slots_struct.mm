# sem_slots_struct: receive 1 comes before send 2 in time, but only the mutex orders anything
# (no race reported: all slots share one sync object).
var x
chan c 2 empty
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
