# torn_interface: two stores to one two-word interface variable, modelled as one var (race).
var v
waitgroup wg

func main {
    wgadd wg 2
    go ws
    go wi
    wait wg
    read v
}

func ws {
    write v 1 @str
    done wg
}

func wi {
    write v 2 @int
    done wg
}
