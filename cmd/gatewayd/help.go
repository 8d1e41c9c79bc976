package main

import (
	"fmt"
	"io"
	"strings"
)

// helpRequested reports whether args ask for help: -h, -help or --help
// before any "--".
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// commandHelp writes the usage of one command — its block of the usage
// text: flags, verbs and what it does — and reports whether there is one.
func commandHelp(w io.Writer, name string) bool {
	var block []string
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  "+name+" "):
			block = append(block, strings.TrimPrefix(line, "  "))
		case len(block) > 0 && strings.HasPrefix(line, "   "):
			block = append(block, line[2:])
		case len(block) > 0:
			fmt.Fprintf(w, "usage: gatewayd %s\n", strings.Join(block, "\n"))
			return true
		}
	}
	return false
}
