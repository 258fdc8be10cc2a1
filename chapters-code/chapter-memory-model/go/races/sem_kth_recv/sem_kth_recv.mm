# sem_kth_recv: receive k is synchronized before the completion of send k+C (no race).
var x
chan sem 2

func main {
    send sem
    send sem
    go g
    send sem
    read x @B
}

func g {
    write x @A
    recv sem
}
