package main

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatewayd/internal/pec/pectest"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/triage/*.json from gatewayd triage's output")
	gen    = flag.Bool("gen", false, "regenerate testdata/triage/*.eml (PEC ones with a new throwaway CA)")
)

const goldenDir = "../../testdata/triage"

// TestGenerateGolden writes the golden inputs and cases.tsv (with -gen).
func TestGenerateGolden(t *testing.T) {
	if !*gen {
		t.Skip("run with -gen to regenerate the golden inputs")
	}
	ca, other := pectest.NewCA("pec.test.it", pectest.Options{}), pectest.NewCA("pec.test.it", pectest.Options{})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(goldenDir, "pec-root.pem"), ca.RootPEM(), 0o644))
	var tsv strings.Builder
	tsv.WriteString("# file\toffice\tmailbox\treceived at (--at; empty: the Received header)\n")
	for _, c := range goldenCases {
		raw := c.plainMail()
		if c.pec != nil {
			signer := ca
			if c.otherCA {
				signer = other
			}
			raw = signer.Envelope(*c.pec)
		}
		must(os.WriteFile(filepath.Join(goldenDir, c.name+".eml"), raw, 0o644))
		tsv.WriteString(c.name + ".eml\t" + c.office + "\t" + c.mailbox + "\t" + c.at + "\n")
	}
	must(os.WriteFile(filepath.Join(goldenDir, "cases.tsv"), []byte(tsv.String()), 0o644))
}

// TestTriage_golden runs gatewayd triage on every case of
// testdata/triage/cases.tsv and compares its JSON with NAME.json.
func TestTriage_golden(t *testing.T) {
	f, err := os.Open(filepath.Join(goldenDir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		n++
		t.Run(strings.TrimSuffix(cols[0], ".eml"), func(t *testing.T) {
			var out, errb bytes.Buffer
			args := []string{"triage", "--rules", "../../rules/" + cols[1], "--mailbox", cols[2]}
			if cols[3] != "" { // else the topmost Received header's date
				args = append(args, "--at", cols[3])
			}
			args = append(args, "--pec-trust", filepath.Join(goldenDir, "pec-root.pem"), filepath.Join(goldenDir, cols[0]))
			code := run(args, &out, &errb)
			if code != exitOK {
				t.Fatalf("triage exit %d: %s", code, errb.String())
			}
			golden := filepath.Join(goldenDir, strings.TrimSuffix(cols[0], ".eml")+".json")
			if *update {
				os.WriteFile(golden, out.Bytes(), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/gatewayd -run Golden -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("gatewayd triage %s =\n%s\nwant\n%s", cols[0], out.String(), want)
			}
		})
	}
	if n < 40 {
		t.Errorf("%d golden cases, want at least 40", n)
	}
}
