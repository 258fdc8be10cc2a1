# mp_send_before_write: the send comes before the write it was meant to publish (race).
var x
chan c 1

func main {
    go g
    recv c
    read x @B
    recv c
}

func g {
    send c
    write x @A
    send c
}
