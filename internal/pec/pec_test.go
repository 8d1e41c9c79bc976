package pec_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gatewayd/internal/pec"
	"gatewayd/internal/pec/pectest"
)

func readShared(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../../shared/testdata/pec", name))
	if err != nil {
		t.Skip("../shared/testdata/pec not found")
	}
	return b
}

// check verifies raw bytes.
func check(v *pec.Verifier, raw []byte) *pec.Envelope {
	return v.Check(bytes.NewReader(raw), int64(len(raw)))
}

// TestCheck_sharedSamples: the genuine Aruba envelope is certified with
// the default trust; the fake-signed and truncated receipts are not; the
// ordinary mails are not PEC.
func TestCheck_sharedSamples(t *testing.T) {
	v := pec.NewVerifier(nil, false)
	for _, tc := range []struct {
		file, outcome, kind, sig string
	}{
		{"fabioportieri-java-pec-parser/aruba-busta-trasporto.eml", pec.Certified, "posta-certificata", pec.SigValid},
		{"go-pec/accettazione.eml", pec.Unsigned, "accettazione", pec.SigMissing},
		{"go-pec/consegna.eml", pec.Unsigned, "errore-consegna", pec.SigMissing},
		{"go-pec/email_2.eml", pec.Unsigned, "avvenuta-consegna", pec.SigMissing},
		{"go-pec/email_3.eml", pec.Unsigned, "posta-certificata", pec.SigMissing},
		{"java-pec-parser/accettazione.eml", pec.Unsigned, "accettazione", pec.SigMissing},
		{"java-pec-parser/consegna.eml", pec.Unsigned, "errore-consegna", pec.SigMissing},
		{"java-pec-parser/plain-mail-1.eml", pec.NotPEC, "none", pec.SigMissing},
		{"java-pec-parser/dsn-failure.eml", pec.NotPEC, "none", pec.SigMissing},
	} {
		e := check(v, readShared(t, tc.file))
		if e.Outcome != tc.outcome || e.Kind() != tc.kind || e.Signature != tc.sig {
			t.Errorf("%s: outcome %s kind %s signature %s (%s), want %s %s %s",
				tc.file, e.Outcome, e.Kind(), e.Signature, e.Detail, tc.outcome, tc.kind, tc.sig)
		}
	}
	e := check(v, readShared(t, "fabioportieri-java-pec-parser/aruba-busta-trasporto.eml"))
	if e.Daticert == nil || e.Daticert.Mittente != "sviluppo@pec.datamanagementitalia.it" || e.Daticert.GestoreEmittente != "ARUBA PEC S.p.A." {
		t.Errorf("daticert = %+v", e.Daticert)
	}
	if got := e.Original.Get("Subject"); got != "[XDCR] xdcr_2022_02_00583.txt" {
		t.Errorf("original subject = %q", got)
	}
	if e.SigningTime.Year() != 2023 {
		t.Errorf("signing time = %v", e.SigningTime)
	}
}

// TestCheck_ownCA: envelopes of every kind from a throwaway CA.
func TestCheck_ownCA(t *testing.T) {
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	v := pec.NewVerifier([]*x509.Certificate{ca.Root}, true)
	base := pectest.Message{Sender: "studio@pec.studio.it", To: "direzione.provinciale.ferrara@postacert.inps.gov.it",
		Subject: "RSSMRA85T10A562S artigiani - istanza", Body: "Testo della domanda."}
	kinds := append([]string{"posta-certificata", "errore"}, pectest.ReceiptKinds()...)
	for _, kind := range kinds {
		m := base
		m.Kind = kind
		e := check(v, ca.Envelope(m))
		if e.Outcome != pec.Certified || e.Kind() != kind || e.Signature != pec.SigValid {
			t.Errorf("%s: %s %s %s (%s), want certified", kind, e.Outcome, e.Kind(), e.Signature, e.Detail)
		}
		if kind == pec.KindAnomaly { // providers often leave daticert out of an anomaly envelope
			if e.Daticert != nil || !e.HasOriginal {
				t.Errorf("anomaly: daticert %+v, original %v", e.Daticert, e.HasOriginal)
			}
			continue
		}
		if e.Daticert == nil || e.Daticert.Mittente != base.Sender || e.Daticert.Tipo != kind {
			t.Errorf("%s: daticert = %+v", kind, e.Daticert)
		}
	}
	m := base
	m.Kind = "posta-certificata"
	e := check(v, ca.Envelope(m))
	if e.Original.Get("Subject") != base.Subject || e.OuterRef == "" {
		t.Errorf("original subject %q, ref %q", e.Original.Get("Subject"), e.OuterRef)
	}
	for name, tc := range map[string]struct {
		ca      *pectest.CA
		m       pectest.Message
		outcome string
		sig     string
	}{
		"tampered":       {ca, pectest.Message{Kind: "posta-certificata", Sender: "a@b.it", To: "c@d.it", Subject: "s", Body: "corpo", Tamper: true}, pec.Tampered, pec.SigInvalid},
		"look-alike":     {ca, pectest.Message{Kind: "posta-certificata", Sender: "a@b.it", To: "c@d.it", Subject: "s", Body: "corpo", NoSig: true}, pec.Unsigned, pec.SigMissing},
		"other CA":       {pectest.NewCA("pec.test.it", pectest.Options{}), pectest.Message{Kind: "posta-certificata", Sender: "a@b.it", To: "c@d.it", Subject: "s", Body: "b"}, pec.Untrusted, pec.SigUntrusted},
		"no PEC policy":  {pectest.NewCA("pec.test.it", pectest.Options{NoPolicy: true}), base, pec.Untrusted, pec.SigUntrusted},
		"foreign domain": {pectest.NewCA("pec.test.it", pectest.Options{EmailDomain: "altro.it"}), base, pec.Untrusted, pec.SigUntrusted},
	} {
		if tc.m.Kind == "" {
			tc.m.Kind = "posta-certificata"
		}
		v := pec.NewVerifier([]*x509.Certificate{tc.ca.Root}, true)
		if name == "other CA" {
			v = pec.NewVerifier([]*x509.Certificate{ca.Root}, true)
		}
		e := check(v, tc.ca.Envelope(tc.m))
		if e.Outcome != tc.outcome || e.Signature != tc.sig {
			t.Errorf("%s: %s %s (%s), want %s %s", name, e.Outcome, e.Signature, e.Detail, tc.outcome, tc.sig)
		}
	}
}

// TestCheck_atSigningTime: a provider certificate that expired after
// signing still verifies, as real ones do months later.
func TestCheck_atSigningTime(t *testing.T) {
	ca := pectest.NewCA("pec.test.it", pectest.Options{Lifetime: 1500 * time.Millisecond})
	env := ca.Envelope(pectest.Message{Kind: "posta-certificata", Sender: "a@b.it", To: "c@d.it", Subject: "s", Body: "b"})
	time.Sleep(2 * time.Second) // the certificate has expired now
	if time.Now().Before(ca.Leaf.NotAfter) {
		t.Fatal("certificate not yet expired")
	}
	e := check(pec.NewVerifier([]*x509.Certificate{ca.Root}, true), env)
	if e.Outcome != pec.Certified {
		t.Errorf("expired after signing: %s (%s), want certified", e.Outcome, e.Detail)
	}
}
