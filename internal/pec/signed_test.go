package pec_test

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"gatewayd/internal/pec"
	"gatewayd/internal/pec/pectest"
)

const office = "direzione.provinciale.ferrara@postacert.inps.gov.it"

func testCA(t testing.TB) (*pectest.CA, *pec.Verifier) {
	t.Helper()
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	return ca, pec.NewVerifier([]*x509.Certificate{ca.Root}, true)
}

func msg(kind string) pectest.Message {
	return pectest.Message{Kind: kind, Sender: "studio@pec.studio.it", To: office,
		Subject: "RSSMRA85T10A562S artigiani - istanza", Body: "Testo della domanda."}
}

// TestCheck_signedKindDecides: the kind is what daticert says, whatever
// the outer headers were relabelled to or how often they are repeated.
func TestCheck_signedKindDecides(t *testing.T) {
	ca, v := testCA(t)
	for name, tc := range map[string]struct {
		m            pectest.Message
		signed, kind string
		outer        string
	}{
		"anomaly relabelled as transport": {with(msg("errore"), func(m *pectest.Message) { m.OuterKind = "posta-certificata" }),
			pec.KindAnomaly, pec.KindAnomaly, "posta-certificata"},
		"receipt relabelled as transport": {with(msg("accettazione"), func(m *pectest.Message) { m.OuterKind = "posta-certificata" }),
			"accettazione", "accettazione", "posta-certificata"},
		"transport relabelled as receipt": {with(msg("posta-certificata"), func(m *pectest.Message) { m.OuterKind = "avvenuta-consegna" }),
			pec.KindTransport, pec.KindTransport, "avvenuta-consegna"},
		"transport with extra outer headers": {with(msg("posta-certificata"), func(m *pectest.Message) {
			m.OuterExtra = "X-Ricevuta: errore-consegna\r\nX-Trasporto: errore\r\n"
		}), pec.KindTransport, pec.KindTransport, "errore-consegna"},
		"anomaly with its own daticert": {with(msg("errore"), func(m *pectest.Message) { m.AnomalyDaticert = true }),
			pec.KindAnomaly, pec.KindAnomaly, "errore"},
		"daticert in ISO-8859-1": {with(msg("posta-certificata"), func(m *pectest.Message) {
			m.Latin1, m.Subject = true, "RSSMRA85T10A562S artigiani - richiesta di sgravio per attività cessata"
		}), pec.KindTransport, pec.KindTransport, "posta-certificata"},
	} {
		e := check(v, ca.Envelope(tc.m))
		if e.Outcome != pec.Certified || e.SignedKind() != tc.signed || e.Kind() != tc.kind || e.OuterKind() != tc.outer {
			t.Errorf("%s: outcome %s signed %q kind %q outer %q (%s), want certified %q %q %q",
				name, e.Outcome, e.SignedKind(), e.Kind(), e.OuterKind(), e.Detail, tc.signed, tc.kind, tc.outer)
		}
	}
}

func with(m pectest.Message, f func(*pectest.Message)) pectest.Message {
	f(&m)
	return m
}

// TestCheck_unsignedHasNoSignedKind: a look-alike's kind is only a claim.
func TestCheck_unsignedHasNoSignedKind(t *testing.T) {
	ca, v := testCA(t)
	for _, kind := range append([]string{"posta-certificata", "errore"}, pectest.ReceiptKinds()...) {
		m := msg(kind)
		m.NoSig = true
		e := check(v, ca.Envelope(m))
		if e.Outcome != pec.Unsigned || e.SignedKind() != "" || e.Kind() != kind || e.Daticert != nil {
			t.Errorf("%s look-alike: %s signed %q kind %q", kind, e.Outcome, e.SignedKind(), e.Kind())
		}
	}
}

// TestCheck_addressedTo: certified to this office only when the mailbox
// is among daticert's destinatari, case-insensitive.
func TestCheck_addressedTo(t *testing.T) {
	ca, v := testCA(t)
	e := check(v, ca.Envelope(with(msg("posta-certificata"), func(m *pectest.Message) {
		m.Recipients = []string{"altro@pec.altro.it", strings.ToUpper(office)}
	})))
	if !e.AddressedTo(office) || e.AddressedTo("altro2@pec.altro.it") {
		t.Errorf("AddressedTo: %v %v, want true false", e.AddressedTo(office), e.AddressedTo("altro2@pec.altro.it"))
	}
	e = check(v, ca.Envelope(with(msg("posta-certificata"), func(m *pectest.Message) { m.Recipients = []string{"altro@pec.altro.it"} })))
	if e.AddressedTo(office) {
		t.Error("a PEC for someone else is addressed to the office")
	}
	m := msg("posta-certificata")
	m.NoSig = true
	if check(v, ca.Envelope(m)).AddressedTo(office) {
		t.Error("a look-alike is addressed to the office")
	}
}

// TestCheck_finalFailure: which receipts end a delivery.
func TestCheck_finalFailure(t *testing.T) {
	ca, v := testCA(t)
	final := map[string]bool{"non-accettazione": true, "errore-consegna": true, "rilevazione-virus": true}
	for _, kind := range pectest.ReceiptKinds() {
		e := check(v, ca.Envelope(msg(kind)))
		if e.SignedKind() != kind || e.FinalFailure() != final[kind] {
			t.Errorf("%s: signed %q final %v, want %v", kind, e.SignedKind(), e.FinalFailure(), final[kind])
		}
	}
	m := msg("preavviso-errore-consegna")
	m.ErroreEsteso = "5.4.1 - Mancata consegna entro 24 ore"
	if e := check(v, ca.Envelope(m)); !e.FinalFailure() || e.Daticert.ErroreEsteso != m.ErroreEsteso {
		t.Errorf("preavviso 5.4.1: final %v, esteso %q", e.FinalFailure(), e.Daticert.ErroreEsteso)
	}
	m.ErroreEsteso = "4.4.7 - Tempo massimo superato"
	if check(v, ca.Envelope(m)).FinalFailure() {
		t.Error("a preavviso 4.4.7 is final")
	}
}

// TestCheck_delimiterShapes: bodies whose delimiters follow each other
// oddly never panic and never certify.
func TestCheck_delimiterShapes(t *testing.T) {
	_, v := testCA(t)
	head := "From: a@b.it\r\nX-Trasporto: posta-certificata\r\nContent-Type: multipart/signed; boundary=\"b\"\r\n\r\n"
	for _, body := range []string{
		"--b\r\n--b\r\n--b--\r\n",
		"--b\r\n--bx\r\ncontent\r\n--b\r\nsig\r\n--b--\r\n",
		"--b\r\n--b-- \r\n--b\r\n",
		"--b\n--b\n",
		"--b",
		"",
		"--b\r\n\r\n--b\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n--b--",
		"--b\r\n" + strings.Repeat("x", 200<<10) + "\r\n--b\r\n" + strings.Repeat("y", 2<<20) + "\r\n--b--\r\n",
	} {
		raw := []byte(head + body)
		e := v.CheckNoRecover(bytes.NewReader(raw), int64(len(raw)))
		if e.Outcome != pec.Unsigned || e.SignedKind() != "" {
			t.Errorf("body %.40q: %s (%s), want unsigned", body, e.Outcome, e.Detail)
		}
	}
}

// TestCheck_largeEnvelope: a 20 MB envelope verifies by streaming.
func TestCheck_largeEnvelope(t *testing.T) {
	ca, v := testCA(t)
	m := msg("posta-certificata")
	m.Body = strings.Repeat(strings.Repeat("a", 76)+"\r\n", 20<<20/78)
	if e := check(v, ca.Envelope(m)); e.Outcome != pec.Certified || e.SignedKind() != pec.KindTransport {
		t.Errorf("large envelope: %s %q (%s)", e.Outcome, e.SignedKind(), e.Detail)
	}
	m.Tamper = true
	if e := check(v, ca.Envelope(m)); e.Outcome != pec.Tampered {
		t.Errorf("large tampered envelope: %s (%s)", e.Outcome, e.Detail)
	}
}

// TestCheck_layout: daticert and postacert are direct parts of the signed
// content, daticert first, once each; an original whose lines collide
// with the provider's boundary cannot smuggle a daticert in.
func TestCheck_layout(t *testing.T) {
	ca, v := testCA(t)
	inject := "Testo.\r\n--mixed-b\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\n\r\n" +
		`<postacert tipo="posta-certificata" errore="nessuno"><intestazione><mittente>info@odcec.fe.it</mittente>` +
		"<destinatari>" + office + "</destinatari></intestazione></postacert>\r\n"
	m := msg("errore")
	m.Body = inject
	e := check(v, ca.Envelope(m))
	if e.Outcome != pec.Certified || e.SignedKind() != "" || !e.Ambiguous {
		t.Errorf("anomaly with a daticert after postacert: %s %q ambiguous %v, want certified, no kind", e.Outcome, e.SignedKind(), e.Ambiguous)
	}
	m = msg("posta-certificata")
	m.Attachment = true
	if e := check(v, ca.Envelope(m)); e.OriginalAttachments != 1 || e.SignedKind() != pec.KindTransport {
		t.Errorf("original with a PDF: %d attachments, kind %q", e.OriginalAttachments, e.SignedKind())
	}
	raw := ca.Envelope(msg("posta-certificata"))
	if e := check(v, bytes.TrimSuffix(raw, []byte("\r\n"))); e.SignedKind() != pec.KindTransport {
		t.Errorf("envelope without its last line break: %s %q (%s)", e.Outcome, e.SignedKind(), e.Detail)
	}
}
