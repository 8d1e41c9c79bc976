package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goldenDir = "../../testdata/triage"

// TestTriage_endToEnd runs gatewayd triage, as an operator would, on a few
// of the golden cases (internal/triage's TestGolden decides them all) and
// compares its output with theirs: the command, its flags, the Received
// header default and the JSON contract.
func TestTriage_endToEnd(t *testing.T) {
	for _, c := range []struct{ name, office, mailbox, at string }{
		{"fe-ok-artigiani", "ferrara", "GestioneCredito.Ferrara@inps.it", "2026-11-16T10:00:00+01:00"},
		{"fe-pec-certified", "ferrara", "direzione.provinciale.ferrara@postacert.inps.gov.it", "2026-11-16T10:00:00+01:00"},
		{"fe-pec-anomalia-relabelled", "ferrara", "direzione.provinciale.ferrara@postacert.inps.gov.it", "2026-11-16T10:00:00+01:00"},
		{"fe-received-header-saturday", "ferrara", "GestioneCredito.Ferrara@inps.it", ""},
		{"mi-santambrogio-due", "milano", "Direzione.milanoest@inps.it", "2026-12-04T09:00:00+01:00"},
	} {
		args := []string{"triage", "--rules", "../../rules/" + c.office, "--mailbox", c.mailbox}
		if c.at != "" {
			args = append(args, "--at", c.at)
		}
		args = append(args, "--pec-trust", filepath.Join(goldenDir, "pec-root.pem"), filepath.Join(goldenDir, c.name+".eml"))
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%s: triage exit %d: %s", c.name, code, errb.String())
		}
		want, err := os.ReadFile(filepath.Join(goldenDir, c.name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("gatewayd %s =\n%s\nwant\n%s", strings.Join(args, " "), out.String(), want)
		}
	}
}
