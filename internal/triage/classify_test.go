package triage_test

import (
	"bytes"
	"crypto/x509"
	"io"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/pec"
	"gatewayd/internal/pec/pectest"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// classify runs the Ferrara rules, trusting ca, on raw arriving at addr.
func classify(t *testing.T, r *rules.Rules, ca *pectest.CA, addr string, raw []byte) triage.Decision {
	t.Helper()
	facts, problem := mailparse.Inspect(bytes.NewReader(raw))
	if problem != nil {
		t.Fatal(problem)
	}
	c := &triage.Rules{Rules: r, PEC: triage.PEC{Verifier: pec.NewVerifier([]*x509.Certificate{ca.Root}, true)}}
	return c.Classify(triage.Input{Address: addr, ReceivedAt: time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), Facts: facts,
		Open: func() (triage.ReadSeekCloser, error) { return nopCloser{bytes.NewReader(raw)}, nil }})
}

// TestClassify_ordineByPEC: a certified PEC from the Ordine's PEC address
// is from the Ordine; the same from anyone else, or unsigned, is not.
func TestClassify_ordineByPEC(t *testing.T) {
	r, err := rules.Load("../../rules/ferrara")
	if err != nil {
		t.Fatal(err)
	}
	r.Ordine["ordine.ferrara@pec.commercialisti.it"] = true
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	const box = "direzione.ferrara@inps.it"
	m := pectest.Message{Kind: "posta-certificata", Sender: "ordine.ferrara@pec.commercialisti.it", To: box,
		Subject: "Quesito normativo sulla contribuzione dei soci lavoratori", Body: "Quesito."}
	if d := classify(t, r, ca, box, ca.Envelope(m)); d.Outcome != triage.Accepted || d.SenderAuth != triage.AuthPEC {
		t.Errorf("PEC from the Ordine: %s %v (%s)", d.Outcome, d.Reasons, d.SenderAuth)
	}
	other := m
	other.Sender = "studio@pec.commercialisti.it"
	if d := classify(t, r, ca, box, ca.Envelope(other)); d.Outcome != triage.Refused || d.Reasons[0] != triage.ReasonNotFromOrdine {
		t.Errorf("PEC from a professional: %s %v", d.Outcome, d.Reasons)
	}
	m.NoSig = true
	if d := classify(t, r, ca, box, ca.Envelope(m)); d.Outcome != triage.Refused || d.SenderAuth == triage.AuthPEC {
		t.Errorf("look-alike PEC from the Ordine: %s %v (%s)", d.Outcome, d.Reasons, d.SenderAuth)
	}
}

// TestClassify_anomalyAnswersInnerSender: an anomaly envelope on the PEC
// box is refused and answered to the original sender, never to the
// provider; the answer quotes the original's Message-ID.
func TestClassify_anomalyAnswersInnerSender(t *testing.T) {
	r, err := rules.Load("../../rules/ferrara")
	if err != nil {
		t.Fatal(err)
	}
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	const box = "direzione.provinciale.ferrara@postacert.inps.gov.it"
	m := pectest.Message{Kind: "errore", Sender: "studio@bianchi.it", To: box, MessageID: "anom.1@pec.test.it",
		Subject: "01234560371 aziende con dipendenti istanza", Body: "Istanza."}
	d := classify(t, r, ca, box, ca.Envelope(m))
	if d.Outcome != triage.Refused || d.Reasons[0] != triage.ReasonNotCertified || d.Sender != "studio@bianchi.it" ||
		d.OriginalID != "orig-anom.1@pec.test.it" || d.PEC.Kind != pec.KindAnomaly {
		t.Errorf("anomaly: %s %v to %s, original %s, kind %s", d.Outcome, d.Reasons, d.Sender, d.OriginalID, d.PEC.Kind)
	}
	m.InnerExtra = "Reply-To: segreteria@altrove.example\r\n"
	if d := classify(t, r, ca, box, ca.Envelope(m)); d.Sender != "studio@bianchi.it" {
		t.Errorf("anomaly with a Reply-To elsewhere answered to %s", d.Sender)
	}
}

// TestClassify_hugeSubject: a subject of a megabyte is judged by its
// first MaxSubject characters, at once (no quadratic name matching).
func TestClassify_hugeSubject(t *testing.T) {
	r, err := rules.Load("../../rules/ferrara")
	if err != nil {
		t.Fatal(err)
	}
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	subj := "RSSMRA85T10A562S lavoratori domestici " + strings.Repeat("R", 1<<20)
	raw := []byte("From: studio@bianchi.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\nMessage-ID: <huge@x>\r\nSubject: " + subj + "\r\n\r\ntesto\r\n")
	d := classify(t, r, ca, "GestioneCredito.Ferrara@inps.it", raw)
	if len([]rune(d.Subject)) > triage.MaxSubject || d.Outcome != triage.Refused {
		t.Errorf("huge subject: %d characters kept, outcome %s %v", len([]rune(d.Subject)), d.Outcome, d.Reasons)
	}
}
