// Command constants prints every constant of cases.go as "NAME = VALUE". Each value goes
// into an interface (the `value any` field), so an untyped constant takes its default type
// (bool, rune, int, float64 or string) and fmt.Println's %v formats it.
package main

import "fmt"

func main() {
	for _, c := range cases {
		fmt.Println(c.name, "=", c.value)
	}
}
