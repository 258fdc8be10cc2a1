# close_signal: close is synchronized before a receive that returns because of it (no race).
var x
chan done 0 empty

func main {
    go g
    recv done
    read x @B
}

func g {
    write x @A
    close done
}
