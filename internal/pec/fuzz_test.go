package pec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gatewayd/internal/pec"
	"gatewayd/internal/pec/pectest"
)

// FuzzCheck runs the whole PEC check, bytes in, result out, without the
// recover that Check wraps around it: any panic is a finding. Seeds are
// envelopes and receipts of every kind from the test CA, look-alikes,
// and the samples of ../shared when present. Findings are kept in
// testdata/fuzz/FuzzCheck and run with every go test.
func FuzzCheck(f *testing.F) {
	ca, v := testCA(f)
	for _, kind := range append([]string{"posta-certificata", "errore"}, pectest.ReceiptKinds()...) {
		m := msg(kind)
		f.Add(ca.Envelope(m))
		m.NoSig = true
		f.Add(ca.Envelope(m))
	}
	f.Add([]byte("X-Trasporto: posta-certificata\r\nContent-Type: multipart/signed; boundary=b\r\n\r\n--b\r\n--b\r\n--b--\r\n"))
	if files, _ := filepath.Glob("../../../shared/testdata/pec/*/*.eml"); len(files) > 0 {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e := v.CheckNoRecover(bytes.NewReader(raw), int64(len(raw)))
		if e.Outcome == "" || e.Signature == "" {
			t.Fatalf("empty outcome: %+v", e)
		}
		if e.SignedKind() != "" && e.Outcome != pec.Certified {
			t.Fatalf("signed kind %q without certification", e.SignedKind())
		}
	})
}
