# atomic_publish: an atomic flag publishes a plain write (no race).
var data
atomic ready

func main {
    go g
    await ready 1
    read data @read
}

func g {
    write data 42 @write
    store ready 1
}
