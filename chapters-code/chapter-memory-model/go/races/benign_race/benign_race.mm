# benign_race: two stores of the same value still race (race).
var seen
waitgroup wg

func main {
    wgadd wg 2
    go one
    go two
    wait wg
    read seen
}

func one {
    write seen @one
    done wg
}

func two {
    write seen @two
    done wg
}
