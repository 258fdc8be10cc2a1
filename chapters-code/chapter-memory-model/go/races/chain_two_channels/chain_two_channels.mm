# chain_two_channels: happens-before is transitive across two channels (no race).
var x
chan c1 1
chan c2 1

func main {
    go first
    go second
    recv c2
    read x @B
}

func first {
    write x @A
    send c1
}

func second {
    recv c1
    send c2
}
