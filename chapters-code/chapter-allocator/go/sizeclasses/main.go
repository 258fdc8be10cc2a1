// Command sizeclasses prints go1.27.3's small-object size classes, computed by Go's own
// generator. The generator (runtime/_mkmalloc/mksizeclasses.go) lives in the toolchain's
// source as part of a program that needs golang.org/x/tools, so this command copies just the
// generator and its constants from $GOROOT into a temporary module, adds a main that prints the
// generator's comment table, runs it with the same go command, and turns the table into CSV:
//
//	class,bytes_obj,bytes_span,objects,tail_waste,max_waste_pct,min_align
//
// Nothing from the generator is kept in this repository; each run uses the toolchain's copy.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const mainGo = `package main

import "os"

func main() { printComment(os.Stdout, makeClasses()) }
`

func main() {
	goroot := runtime.GOROOT()
	src := filepath.Join(goroot, "src", "runtime", "_mkmalloc")
	dir, err := os.MkdirTemp("", "sizeclasses")
	check(err)
	defer os.RemoveAll(dir)
	for _, f := range []string{"mksizeclasses.go", "constants.go"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		check(err)
		check(os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	check(os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainGo), 0o644))
	check(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module gen\n\ngo 1.27\n"), 0o644))

	cmd := exec.Command(filepath.Join(goroot, "bin", "go"), "run", ".")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	check(err)

	fmt.Println("class,bytes_obj,bytes_span,objects,tail_waste,max_waste_pct,min_align")
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Scan() // the header line
	for sc.Scan() {
		f := strings.Fields(strings.TrimPrefix(sc.Text(), "//"))
		if len(f) != 7 {
			break // the end of the first table
		}
		f[5] = strings.TrimSuffix(f[5], "%")
		fmt.Println(strings.Join(f, ","))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
