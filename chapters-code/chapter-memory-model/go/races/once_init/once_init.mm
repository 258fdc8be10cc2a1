# once_init: sync.Once orders the initialization before every Do's return (no race).
var cfg
once o
waitgroup wg

func main {
    wgadd wg 2
    go get
    go get
    wait wg
}

func setup {
    write cfg 42 @init
}

func get {
    once o setup
    read cfg @use
    done wg
}
