# go_stmt_orders: the go statement orders what precedes it before the new goroutine (no race).
var x
chan done 0

func main {
    write x @A
    go g
    recv done
}

func g {
    read x @B
    send done
}
