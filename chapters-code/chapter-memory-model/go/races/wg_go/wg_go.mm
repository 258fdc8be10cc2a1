# wg_go: WaitGroup.Go adds before it starts f and is done after f returns (no race).
var a b
waitgroup wg

func main {
    wggo wg wa
    wggo wg wb
    wait wg
    read a @readA
    read b @readB
}

func wa {
    write a @A
}

func wb {
    write b @B
}
