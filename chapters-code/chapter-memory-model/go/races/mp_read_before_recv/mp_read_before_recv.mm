# mp_read_before_recv: the read comes before the receive, which orders nothing it did (race).
var x
chan c 1

func main {
    go g
    read x @B
    recv c
}

func g {
    write x @A
    send c
}
