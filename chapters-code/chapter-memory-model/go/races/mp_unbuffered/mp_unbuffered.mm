# mp_unbuffered: message passing through an unbuffered channel (no race).
var x
chan c 0

func main {
    go g
    recv c
    read x @B
}

func g {
    write x @A
    send c
}
