package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/deadlines/*.json from gatewayd deadlines' output")

// TestDeadlines_golden: gatewayd deadlines on both offices' ladders across
// holidays, against testdata/deadlines/NAME.json (-update rewrites them).
func TestDeadlines_golden(t *testing.T) {
	for name, args := range map[string][]string{
		// The README's example: due Mon 7 Dec; sollecito Wed 9 (8 Dec is a holiday); escalation Mon 21.
		"fe-23nov2026": {"ferrara", "GestioneCredito.Ferrara@inps.it", "2026-11-23T10:00:00+01:00"},
		// Friday 24 Sep 2027, with 4 October 2027 (a Monday, San Francesco) inside the term.
		"fe-24sep2027": {"ferrara", "AnagraficaFlussi.Ferrara@inps.it", "2027-09-24T11:00:00+02:00"},
		// A Saturday counts from Monday.
		"fe-saturday":  {"ferrara", "direzione.provinciale.ferrara@postacert.inps.gov.it", "2026-11-21T09:00:00+01:00"},
		"fe-normativa": {"ferrara", "direzione.ferrara@inps.it", "2026-04-22T15:00:00+02:00"},
		// Milan from Friday 4 Dec 2026: 7 Dec (Sant'Ambrogio) and 8 Dec inside, Christmas too.
		"mi-4dec2026":      {"milano", "Direzione.milanonord@inps.it", "2026-12-04T10:00:00+01:00"},
		"mi-4dec2026-durc": {"milano", "preavvisodiaccertamento.legnano@inps.it", "2026-12-04T10:00:00+01:00"},
	} {
		var out, errb bytes.Buffer
		code := run([]string{"deadlines", "--rules", "../../rules/" + args[0], "--mailbox", args[1], "--at", args[2]}, &out, &errb)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errb.String())
		}
		golden := filepath.Join("../../testdata/deadlines", name+".json")
		if *update {
			os.WriteFile(golden, out.Bytes(), 0o644)
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./cmd/gatewayd -run Deadlines -update)", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s: gatewayd deadlines %s =\n%s\nwant\n%s", name, strings.Join(args, " "), out.String(), want)
		}
	}
}

// TestDeadlines_errors: it exits non-zero only when it cannot compute.
func TestDeadlines_errors(t *testing.T) {
	for _, args := range [][]string{
		{"--rules", "../../rules/ferrara", "--mailbox", "nobody@inps.it", "--at", "2026-11-23T10:00:00+01:00"},
		{"--rules", "../../rules/ferrara", "--mailbox", "GestioneCredito.Ferrara@inps.it", "--at", "23/11/2026"},
		{"--rules", "../../rules/nowhere", "--mailbox", "GestioneCredito.Ferrara@inps.it", "--at", "2026-11-23T10:00:00+01:00"},
		{"--rules", "../../rules/ferrara"},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"deadlines"}, args...), &out, &errb); code == exitOK || errb.Len() == 0 {
			t.Errorf("deadlines %v: exit %d, stderr %q; want an error", args, code, errb.String())
		}
	}
}
