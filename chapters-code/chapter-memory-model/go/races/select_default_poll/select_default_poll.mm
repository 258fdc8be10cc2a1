# select_default_poll: the format has no select; the polls that take the default case have
# no memory effect and no synchronization, so the loop is its one successful receive (no race).
var x
chan done 0 empty

func main {
    go g
    recv done
    read x @B
}

func g {
    write x @A
    close done
}
