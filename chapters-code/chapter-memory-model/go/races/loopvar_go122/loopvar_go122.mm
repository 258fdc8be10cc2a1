# loopvar_go122: a fresh i per iteration (Go 1.22): i0 i1 i2 (i3 fails the loop test); each
# next one is copied from the previous one, then incremented (no race).
var i0 i1 i2 i3
waitgroup wg

func main {
    write i0 0 @inc
    wgadd wg 1
    go g0
    read i0 @inc
    write i1 @inc
    wgadd wg 1
    go g1
    read i1 @inc
    write i2 2 @inc
    wgadd wg 1
    go g2
    read i2 @inc
    write i3 3 @inc
    wait wg
}

func g0 {
    read i0 @read
    done wg
}

func g1 {
    read i1 @read
    done wg
}

func g2 {
    read i2 @read
    done wg
}
