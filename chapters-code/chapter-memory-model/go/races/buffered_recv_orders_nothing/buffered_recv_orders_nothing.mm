# buffered_recv_orders_nothing: with a buffer, the receive does not order the send (race).
var x
chan c 1
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
