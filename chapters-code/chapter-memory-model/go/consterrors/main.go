// Command consterrors prints what the compiler says about the constant declarations in
// cases.txt: it writes them into a temporary package, runs the real `go build -gcflags=-e`
// on it (-e: report every error, not only the first ten), and prints each message as
// `consterrors.go:LINE:COL: message`, sorted by position, with the temporary path removed.
package main

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
)

//go:embed cases.txt
var cases string

// Header is what precedes cases.txt in the generated file: line n of cases.txt is line n+2.
const header = "package consterrors\n\n"

// Go finds the go command: $GOROOT/bin/go (go run sets GOROOT for the program it runs).
func goCommand() string {
	root := os.Getenv("GOROOT")
	if root == "" {
		root = runtime.GOROOT()
	}
	return filepath.Join(root, "bin", "go")
}

var msgLine = regexp.MustCompile(`^\S*consterrors\.go:(\d+):(\d+): (.*)$`)

func main() {
	dir, err := os.MkdirTemp("", "consterrors")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	must(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module consterrors\n\ngo 1.27\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "consterrors.go"), []byte(header+cases), 0o644))

	cmd := exec.Command(goCommand(), "build", "-gcflags=-e", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err == nil {
		fmt.Fprintln(os.Stderr, "consterrors: the compiler accepted every declaration")
		os.Exit(1)
	}

	type msg struct {
		line, col int
		text      string
	}
	var msgs []msg
	for _, l := range regexp.MustCompile("\r?\n").Split(string(out), -1) {
		m := msgLine.FindStringSubmatch(l)
		if m == nil {
			continue // "# consterrors" and the like
		}
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		msgs = append(msgs, msg{line, col, m[3]})
	}
	sort.SliceStable(msgs, func(i, j int) bool {
		if msgs[i].line != msgs[j].line {
			return msgs[i].line < msgs[j].line
		}
		return msgs[i].col < msgs[j].col
	})
	for _, m := range msgs {
		fmt.Printf("consterrors.go:%d:%d: %s\n", m.line, m.col, m.text)
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
