# slice_elements: s0 and s1 are the elements, s the header that both goroutines only read
# (no race).
var s s0 s1
waitgroup wg

func main {
    write s
    wgadd wg 2
    go w0
    go w1
    wait wg
    read s0
    read s1
}

func w0 {
    read s @s0
    write s0 @s0
    done wg
}

func w1 {
    read s @s1
    write s1 2 @s1
    done wg
}
