// Command testsummary reads `go test -json` on standard input and prints
// what a person reads: each package's result, the whole output of every
// test that failed (and of a package that failed outside a test), and at
// the end one line `N passed, N failed, N skipped`. It exits 1 when
// anything failed. scripts/test pipes the tests through it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// event is one line of test2json's output.
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	passed, failed, skipped := 0, 0, 0
	pkgFailed := false
	output := map[string]*strings.Builder{} // package/test → its output, until it ends
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		var e event
		if json.Unmarshal(in.Bytes(), &e) != nil {
			fmt.Println(in.Text()) // a build error, printed as it is
			continue
		}
		key := e.Package + "/" + e.Test
		switch e.Action {
		case "output":
			if output[key] == nil {
				output[key] = &strings.Builder{}
			}
			output[key].WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				printPackage(e, output[key])
				pkgFailed = pkgFailed || e.Action == "fail"
			} else if e.Action == "fail" {
				fmt.Print(output[key].String())
			}
			if e.Test != "" && !strings.Contains(e.Test, "/") { // top-level tests only
				switch e.Action {
				case "pass":
					passed++
				case "fail":
					failed++
				case "skip":
					skipped++
				}
			}
			delete(output, key)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || pkgFailed {
		os.Exit(1)
	}
}

// printPackage prints a package's result line, and its own output when it
// failed outside any test (a build error, a panic in TestMain).
func printPackage(e event, out *strings.Builder) {
	text := ""
	if out != nil {
		text = out.String()
	}
	if e.Action == "fail" {
		fmt.Print(text) // ends with go test's own FAIL line for the package
		return
	}
	if strings.Contains(text, "no test files") {
		return
	}
	fmt.Printf("ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
}
