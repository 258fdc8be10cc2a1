# sleep_is_not_sync: a sleep lets g run first, but orders nothing (race).
var x
chan done 0

func main {
    go g
    sleep
    read x @B
    recv done
}

func g {
    write x @A
    send done
}
