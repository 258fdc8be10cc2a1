# unbuffered_recv_orders_send: an unbuffered receive orders the completion of its send (no race).
var x
chan c 0
chan done 0

func main {
    go g
    write x @A
    recv c
    recv done
}

func g {
    send c
    read x @B
    send done
}
