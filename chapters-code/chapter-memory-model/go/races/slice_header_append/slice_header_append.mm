# slice_header_append: s is the header, s0 s1 the elements (race on the header).
var s s0 s1
waitgroup wg

func main {
    write s
    wgadd wg 2
    go appender
    go reader
    wait wg
}

func appender {
    read s @append
    write s1 2 @append
    write s @append
    done wg
}

func reader {
    read s @index
    read s0 @index
    done wg
}
