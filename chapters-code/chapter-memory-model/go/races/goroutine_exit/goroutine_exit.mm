# goroutine_exit: main learns that g has exited and reads x (race).
# The format cannot count goroutines; "main waits until g is done, through something that is
# no synchronization" is written with a Cond: g's last act is a Signal, which orders nothing;
# the mutex is released by g before its write, so the relock in condwait orders nothing
# after it either.
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
