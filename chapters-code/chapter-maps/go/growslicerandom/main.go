// Command growslicerandom checks growslice on rows nobody chose by hand.
//
//	growslicerandom gen     prints 3000 random rows: elemsize,variant,start_len,start_cap,appended
//	growslicerandom answer  reads such rows and prints each with Go's resulting cap added
//
// `answer` builds element types of any size at run time with reflect (ArrayOf, StructOf) and
// appends with reflect.AppendSlice, which grows through the same runtime.growslice as append.
// Only the heap variants can be made this way; the compiler-driven ones (noescape, return) are
// covered by the fixed sizes of ../growslice.
package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: growslicerandom gen|answer")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "gen":
		gen()
	case "answer":
		answer()
	default:
		fmt.Fprintln(os.Stderr, "usage: growslicerandom gen|answer")
		os.Exit(2)
	}
}

func gen() {
	r := rand.New(rand.NewPCG(1, 27))
	fmt.Println("elemsize,variant,start_len,start_cap,appended")
	for i := 0; i < 3000; i++ {
		ptr := r.IntN(3) == 0
		var size int
		switch r.IntN(3) {
		case 0:
			size = 1 + r.IntN(64)
		case 1:
			size = 1 + r.IntN(1100)
		default:
			size = 1 + r.IntN(9000)
		}
		if ptr {
			size = (size + 7) &^ 7 // a struct holding a pointer is a multiple of 8 bytes
		}
		// Keep every slice under about 64 MiB.
		limit := 64<<20/size/2 + 1
		capN := r.IntN(min(limit, 6000))
		lenN := 0
		if capN > 0 {
			lenN = r.IntN(capN + 1)
		}
		n := 1 + r.IntN(min(limit, 3000))
		if r.IntN(2) == 0 {
			lenN, capN, n = capN, capN, 1 // the common one-at-a-time append of a full slice
		}
		variant := "escape_multi"
		if n == 1 && lenN == capN {
			variant = "escape"
		}
		if ptr {
			variant = "escape_ptr"
		}
		fmt.Printf("%d,%s,%d,%d,%d\n", size, variant, lenN, capN, n)
	}
}

var bytePtr = reflect.TypeFor[*byte]()

func elemType(size int, ptr bool) reflect.Type {
	if !ptr {
		return reflect.ArrayOf(size, reflect.TypeFor[byte]())
	}
	if size == 8 {
		return bytePtr
	}
	return reflect.StructOf([]reflect.StructField{
		{Name: "P", Type: bytePtr},
		{Name: "Pad", Type: reflect.ArrayOf(size-8, reflect.TypeFor[byte]())},
	})
}

func answer() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "elemsize") {
			fmt.Fprintln(out, "elemsize,variant,start_len,start_cap,appended,resulting_cap")
			continue
		}
		f := strings.Split(line, ",")
		num := func(i int) int {
			v, err := strconv.Atoi(f[i])
			if err != nil {
				fmt.Fprintf(os.Stderr, "bad row %q\n", line)
				os.Exit(1)
			}
			return v
		}
		size, lenN, capN, n := num(0), num(2), num(3), num(4)
		t := reflect.SliceOf(elemType(size, strings.HasSuffix(f[1], "_ptr")))
		if t.Elem().Size() != uintptr(size) {
			fmt.Fprintf(os.Stderr, "could not build a %d-byte element\n", size)
			os.Exit(1)
		}
		s := reflect.MakeSlice(t, lenN, capN)
		s = reflect.AppendSlice(s, reflect.MakeSlice(t, n, n))
		fmt.Fprintf(out, "%s,%d\n", strings.Join(f[:5], ","), s.Cap())
	}
}
