# atomic_mixed: an atomic add and a plain store to one word (race). The word is a plain var
# accessed both ways, as `var n int64` is in Go.
var n
waitgroup wg

func main {
    wgadd wg 2
    go adder
    go setter
    wait wg
    read n
}

func adder {
    add n 1 @atomic
    done wg
}

func setter {
    write n 5 @plain
    done wg
}
