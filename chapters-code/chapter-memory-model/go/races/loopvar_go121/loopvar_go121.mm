# loopvar_go121: one loop variable i shared by all iterations (Go 1.21), read by the
# goroutines while main increments it (race).
var i
waitgroup wg

func main {
    write i 0 @inc
    repeat 3 {
        wgadd wg 1
        go g
        read i @inc
        write i @inc
    }
    wait wg
}

func g {
    read i @read
    done wg
}
