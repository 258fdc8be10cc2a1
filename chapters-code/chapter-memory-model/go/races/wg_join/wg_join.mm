# wg_join: Wait returns after both Dones, which follow the writes (no race).
var a b
waitgroup wg

func main {
    wgadd wg 2
    go wa
    go wb
    wait wg
    read a @readA
    read b @readB
}

func wa {
    write a @A
    done wg
}

func wb {
    write b @B
    done wg
}
