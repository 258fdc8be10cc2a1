# dcl_plain: double-checked locking with a plain flag: the unlocked check races (race).
var cfg
mutex mu
waitgroup wg

func main {
    wgadd wg 2
    go get
    go get
    wait wg
    read cfg
}

func get {
    if cfg == 0 { @check
        lock mu
        if cfg == 0 {
            write cfg 42 @init
        }
        unlock mu
    }
    done wg
}
