# map_write_read: a map is one var (race).
var m
chan done 0

func main {
    go g
    sleep
    read m @read
    recv done
}

func g {
    write m @write
    send done
}
