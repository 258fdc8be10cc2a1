# dcl_atomic: double-checked locking with an atomic flag (no race).
var cfg
atomic ready
mutex mu
waitgroup wg

func main {
    wgadd wg 2
    go get
    go get
    wait wg
}

func get {
    if ready == 0 {
        lock mu
        if ready == 0 {
            write cfg 42 @init
            store ready 1
        }
        unlock mu
    }
    read cfg @use
    done wg
}
