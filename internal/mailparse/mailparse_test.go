package mailparse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden is what a test file's .golden holds.
type golden struct {
	MessageID string   `json:"message_id"`
	From      string   `json:"from"`
	Subject   string   `json:"subject"`
	Problem   *Problem `json:"problem"`
}

// TestInspect_golden compares Inspect on testdata/inspect/*.eml with the
// .golden beside each (regenerate with go test -update).
func TestInspect_golden(t *testing.T) {
	files, _ := filepath.Glob("testdata/inspect/*.eml")
	if len(files) < 10 {
		t.Fatalf("found %d golden inputs, want at least 10", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			facts, p := Inspect(bytes.NewReader(raw))
			got, _ := json.MarshalIndent(golden{facts.MessageID, facts.From, facts.Subject, p}, "", "  ")
			gf := strings.TrimSuffix(f, ".eml") + ".golden"
			if *update {
				os.WriteFile(gf, append(got, '\n'), 0o644)
				return
			}
			want, err := os.ReadFile(gf)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(bytes.TrimSpace(want)) != string(got) {
				t.Errorf("Inspect() =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestInspect_sharedSamples: the real mails of shared/testdata/pec are
// well formed (skipped where shared/ is absent).
func TestInspect_sharedSamples(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/testdata/pec/*/*.eml")
	if len(files) == 0 {
		t.Skip("../shared/testdata/pec not found")
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		if facts, p := Inspect(bytes.NewReader(raw)); p != nil {
			// A sample may lack a Message-ID; anything else is a parser bug.
			if p.Reason != ReasonMissingMessageID {
				t.Errorf("%s: %v (facts %+v)", f, p, facts.MessageID)
			}
		}
	}
}

func TestInspect_largeBodyStreams(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: a@x\r\nMessage-ID: <big@x>\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for b.Len() < 20<<20 {
		b.WriteString("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n")
	}
	b.WriteString("--q--\r\n")
	if _, p := Inspect(&b); p != nil {
		t.Errorf("Inspect(20 MB) = %v, want well formed", p)
	}
}

func TestInspect_headerWithoutEnd(t *testing.T) {
	h := "From: a@x\r\nX-Long: " + strings.Repeat("a", 2<<20)
	if _, p := Inspect(strings.NewReader(h)); p == nil || p.Reason != ReasonMalformedHeader {
		t.Errorf("Inspect(2 MB header line) = %v, want %s", p, ReasonMalformedHeader)
	}
}

// FuzzInspect: no input makes Inspect panic or hang.
func FuzzInspect(f *testing.F) {
	files, _ := filepath.Glob("testdata/inspect/*.eml")
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		facts, p := Inspect(bytes.NewReader(raw))
		if p != nil && p.Reason == ReasonParserFailure {
			t.Errorf("parser failure: %v", p.Detail)
		}
		if p == nil && facts.MessageID == "" {
			t.Errorf("well formed without a Message-ID")
		}
	})
}

// TestInspect_partHeaderBombs: a part whose header never ends, or has
// half a million fields, is malformed, and is read in bounded memory.
func TestInspect_partHeaderBombs(t *testing.T) {
	head := "From: a@b.it\r\nMessage-ID: <x@y>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	for name, part := range map[string]string{
		"one long line": "Content-Type: text/plain\r\nX-Big: " + strings.Repeat("A", 3<<20) + "\r\n\r\nbody\r\n--b--\r\n",
		"many fields":   strings.Repeat("X-H: "+strings.Repeat("a", 90)+"\r\n", 40000) + "\r\nbody\r\n--b--\r\n",
		"nested":        "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nX-Big: " + strings.Repeat("A", 3<<20) + "\r\n\r\nx\r\n--c--\r\n--b--\r\n",
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, p := Inspect(strings.NewReader(head + part))
		runtime.ReadMemStats(&after)
		if p == nil || p.Reason != ReasonMalformedMIME {
			t.Errorf("%s: Inspect = %v, want %s", name, p, ReasonMalformedMIME)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("%s: %d MB allocated reading a part header", name, grew>>20)
		}
	}
	// A large attachment after a short header is fine.
	ok := head + "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n" +
		strings.Repeat("QUJD\r\n", 1<<20) + "--b--\r\n"
	if f, p := Inspect(strings.NewReader(ok)); p != nil || f.Attachments != 1 {
		t.Errorf("large attachment: %v, %d attachments", p, f.Attachments)
	}
}
