# mp_buffered: message passing through a buffered channel of capacity 1 (no race).
var x
chan c 1

func main {
    go g
    recv c
    read x @B
}

func g {
    write x @A
    send c
}
