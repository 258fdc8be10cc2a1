# wg_read_before_wait: the read comes before Wait (race).
var x
waitgroup wg

func main {
    wgadd wg 1
    go worker
    read x @B
    wait wg
}

func worker {
    write x @A
    done wg
}
