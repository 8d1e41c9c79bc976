package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// dispatched returns the commands of run's switch in main.go, so that a
// command added there is held to the same contract.
func dispatched(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "run" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						if !strings.HasPrefix(s, "-") {
							out = append(out, s)
						}
					}
				}
			}
			return true
		})
	}
	if len(out) < 10 {
		t.Fatalf("found only %v in run's switch", out)
	}
	return out
}

// TestHelp_everyCommand: every command of main.go's dispatch answers -h
// (and --help, also after other arguments) with exit 0 and its usage —
// its flags and verbs — on stdout.
func TestHelp_everyCommand(t *testing.T) {
	verbs := map[string][]string{
		"case":   {"show PROTOCOL", "close PROTOCOL --outcome", "wait PROTOCOL", "forward PROTOCOL"},
		"outbox": {"list [STATE]", "show ID", "retry ID"},
		"cases":  {"list", "--state"}, "messages": {"list", "--since"},
		"check": {"--config FILE", "--connect", "--rules DIR"}, "run": {"--shadow"}, "demo": {"-state DIR"},
	}
	for _, cmd := range dispatched(t) {
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--config", "x.yaml", "--help"}} {
			var out, errb bytes.Buffer
			code := run(args, &out, &errb)
			if code != exitOK || !strings.HasPrefix(out.String(), "usage: gatewayd "+cmd) && cmd != "help" {
				t.Errorf("gatewayd %s: exit %d, stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
				continue
			}
			for _, v := range verbs[cmd] {
				if !strings.Contains(out.String(), v) {
					t.Errorf("gatewayd %s does not list %q:\n%s", strings.Join(args, " "), v, out.String())
				}
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"help", "outbox"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "retry ID") {
		t.Errorf("gatewayd help outbox = %d:\n%s", code, out.String())
	}
}

// TestVersion: gatewayd version names the build (the module version, and
// the VCS revision and time when the go command stamped them) and Go's.
func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "gatewayd ") ||
		!strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("gatewayd version = %d: %q, want gatewayd VERSION … %s", code, out.String(), runtime.Version())
	}
}
