package triage_test

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/pec"
	"gatewayd/internal/pec/pectest"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/triage/*.json from the package's decisions")
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

// goldenCase is one line of testdata/triage/cases.tsv.
type goldenLine struct{ file, office, mailbox, at string }

// GoldenLines reads testdata/triage/cases.tsv.
func goldenLines(t *testing.T) []goldenLine {
	t.Helper()
	f, err := os.Open(filepath.Join(goldenDir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") && line != "" {
			c := strings.Split(line, "\t")
			out = append(out, goldenLine{c[0], c[1], c[2], c[3]})
		}
	}
	return out
}

// TestGolden decides every case of testdata/triage with the office's rules
// and compares the report with NAME.json (-update rewrites them).
func TestGolden(t *testing.T) {
	roots, err := rules.ParseCertificates(must(os.ReadFile(filepath.Join(goldenDir, "pec-root.pem"))))
	if err != nil {
		t.Fatal(err)
	}
	classifiers := map[string]*triage.Rules{}
	lines := goldenLines(t)
	for _, l := range lines {
		if classifiers[l.office] == nil {
			r, err := rules.Load("../../rules/" + l.office)
			if err != nil {
				t.Fatal(err)
			}
			anchors := append(append([]*x509.Certificate{}, r.PECTrust...), roots...)
			classifiers[l.office] = &triage.Rules{Rules: r, PEC: triage.PEC{Verifier: pec.NewVerifier(anchors, r.PECTrustReplace)}}
		}
		t.Run(strings.TrimSuffix(l.file, ".eml"), func(t *testing.T) {
			d, err := decide(filepath.Join(goldenDir, l.file), l.mailbox, l.at, classifiers[l.office])
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			triage.ReportOf(d).Write(&got)
			golden := filepath.Join(goldenDir, strings.TrimSuffix(l.file, ".eml")+".json")
			if *update {
				os.WriteFile(golden, got.Bytes(), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/triage -run Golden -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s decided\n%s\nwant\n%s", l.file, got.String(), want)
			}
		})
	}
	if len(lines) < 70 {
		t.Errorf("%d golden cases, want at least 70", len(lines))
	}
}

// decide reads one case as gatewayd triage does.
func decide(path, mailbox, at string, cls triage.Classifier) (triage.Decision, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return triage.Decision{}, err
	}
	facts, problem := mailparse.Inspect(bytes.NewReader(raw))
	if problem != nil {
		return triage.Decision{}, fmt.Errorf("would be quarantined: %v", problem)
	}
	received := mailparse.ReceivedAt(facts)
	if at != "" {
		if received, err = time.Parse(time.RFC3339, at); err != nil {
			return triage.Decision{}, err
		}
	}
	open := func() (triage.ReadSeekCloser, error) { return nopCloser{bytes.NewReader(raw)}, nil }
	return cls.Classify(triage.Input{Address: mailbox, ReceivedAt: received, Facts: facts, Open: open}), nil
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
