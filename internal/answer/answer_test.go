package answer

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/triage"
)

func loadFerrara(t *testing.T) *Templates {
	t.Helper()
	tpl, err := Load(os.DirFS("../../rules/ferrara"), "templates", "rules/ferrara/templates")
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return tpl
}

func TestLoad_examples(t *testing.T) {
	loadFerrara(t)
	if _, err := Load(os.DirFS("../../rules/milano"), "templates", "rules/milano/templates"); err != nil {
		t.Fatalf("milano: %v", err)
	}
}

// TestLoad_errors: an unknown field and a syntax error are file:line
// errors; a missing template is named.
func TestLoad_errors(t *testing.T) {
	dir := t.TempDir()
	os.CopyFS(dir, os.DirFS("../../rules/ferrara/templates"))
	os.WriteFile(dir+"/firma.txt", []byte("riga uno\n{{.Ufficio}}\n"), 0o644)
	os.WriteFile(dir+"/rifiuto.txt", []byte("a\nb\n{{if .Office}}\n"), 0o644)
	os.Remove(dir + "/motivo-use-cassetto.txt")
	_, err := Load(os.DirFS(dir), ".", "tpl")
	if err == nil {
		t.Fatal("Load() = nil, want errors")
	}
	for _, want := range []string{"tpl/firma.txt:2: ", "Ufficio", "tpl/rifiuto.txt:4: unexpected EOF", "tpl/motivo-use-cassetto.txt: missing template"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func input(d triage.Decision) Input {
	return Input{OfficeName: "Direzione provinciale INPS di Ferrara", OfficeCode: "FE", From: "GestioneCredito.Ferrara@inps.it",
		Mailbox: "GestioneCredito.Ferrara@inps.it", To: "studio@example.it", OrigSubject: "RSSMRA85T10A562S artigiani richiesta",
		OrigMessageID: "orig@example.it", OrigReferences: "<a@example.it> <b@example.it>", Record: 42, Decision: d,
		Protocol: "INPS.FE.2026.0000007", ReceivedAt: time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC),
		Now: time.Date(2026, 11, 16, 10, 1, 0, 0, time.UTC), ExampleSubject: "RSSMRA85T10A562S - Artigiani - esempio"}
}

func parse(t *testing.T, raw []byte) (*mail.Header, string) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, raw)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(p.Body)
	return &r.Header, b.String()
}

func TestCompose_acknowledgment(t *testing.T) {
	tpl := loadFerrara(t)
	in := input(triage.Decision{Outcome: triage.Accepted, CodiceFiscale: "RSSMRA85T10A562S",
		Gestione: "artigiani", Summary: "richiesta", Due: "2026-11-30"})
	m, err := Compose(tpl, in)
	if err != nil {
		t.Fatal(err)
	}
	h, body := parse(t, m.Raw)
	subj, _ := h.Subject()
	for name, got := range map[string]string{
		"Subject": subj, "To": h.Get("To"), "Auto-Submitted": h.Get("Auto-Submitted"),
		"In-Reply-To": h.Get("In-Reply-To"), "References": h.Get("References"), "Message-Id": h.Get("Message-Id"),
	} {
		want := map[string]string{
			"Subject": "Protocollo INPS.FE.2026.0000007 - Re: RSSMRA85T10A562S artigiani richiesta", "To": "<studio@example.it>",
			"Auto-Submitted": "auto-replied", "In-Reply-To": "<orig@example.it>",
			"References": "<a@example.it> <b@example.it> <orig@example.it>", "Message-Id": h.Get("Message-Id"),
		}[name]
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<gatewayd.accettazione.fe.42.") || !strings.HasSuffix(id, "@inps.it>") || len(id) < 40 {
		t.Errorf("Message-Id = %q, want <gatewayd.accettazione.fe.42.RANDOM@inps.it>", id)
	}
	if again, _ := Compose(tpl, in); again.MessageID == m.MessageID {
		t.Errorf("two answers share the Message-ID %s", m.MessageID)
	}
	for _, want := range []string{"INPS.FE.2026.0000007", "entro il 30/11/2026", "16/11/2026 alle 11:00", "Artigiani", "RSSMRA85T10A562S"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

// TestCompose_refusals: each reason's text appears, with its values.
func TestCompose_refusals(t *testing.T) {
	tpl := loadFerrara(t)
	for reason, want := range map[string]string{
		triage.ReasonNotCertified: "priva di protocollo", triage.ReasonPECInvalidSignature: "alterato",
		triage.ReasonMissingCF: "manca il codice fiscale", triage.ReasonInvalidCF: "RSSMRA85T10A562T",
		triage.ReasonMissingGestione: "manca la gestione", triage.ReasonMissingSummary: "manca una breve sintesi",
		triage.ReasonWrongMailbox: "preavvisodiaccertamento.ferrara@inps.it", triage.ReasonUseCassetto: "Cassetto",
		triage.ReasonTelematicOnly: "servizio-online", triage.ReasonNotFromOrdine: "Ordine",
		triage.ReasonPECNotAddressedHere: "non era indirizzato a questa casella", triage.ReasonMissingName: "nominativo",
		triage.ReasonMissingEvidence: "allegati",
	} {
		d := triage.Decision{Outcome: triage.Refused, Reasons: []string{reason}, InvalidValue: "RSSMRA85T10A562T",
			RightMailbox: "preavvisodiaccertamento.ferrara@inps.it", Service: "servizio-online"}
		m, err := Compose(tpl, input(d))
		if err != nil {
			t.Fatal(err)
		}
		h, body := parse(t, m.Raw)
		subj, _ := h.Subject()
		if !strings.HasPrefix(subj, "Non presa in carico - Re: ") || !strings.Contains(body, want) || strings.Contains(body, "INPS.FE.2026") {
			t.Errorf("%s: subject %q, body:\n%s", reason, subj, body)
		}
	}
}

// TestCompose_hostile: line breaks and control characters from the
// incoming mail never reach a header; non-ASCII is encoded.
func TestCompose_hostile(t *testing.T) {
	in := input(triage.Decision{Outcome: triage.Accepted})
	in.OrigSubject = "Richiesta\r\nBcc: vittima@example.it\r\n\r\ncorpo finto \x00 è già"
	in.OrigMessageID = "x@y>\r\nBcc: altro@example.it"
	in.OrigReferences = "<ok@example.it> <bad\r\n@x>"
	m, err := Compose(loadFerrara(t), in)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(m.Raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Errorf("header injection: %q", line)
		}
		for _, c := range []byte(line) {
			if c >= 0x80 || c == 0 {
				t.Errorf("raw non-ASCII or NUL in header line %q", line)
				break
			}
		}
	}
	h, _ := parse(t, m.Raw)
	if subj, _ := h.Subject(); !strings.Contains(subj, "è già") || strings.ContainsAny(subj, "\r\n\x00") {
		t.Errorf("subject = %q", subj)
	}
	if h.Get("In-Reply-To") != "" {
		t.Errorf("In-Reply-To kept a broken Message-ID: %q", h.Get("In-Reply-To"))
	}
}

// asciiHeader fails the test for a raw byte outside printable ASCII in any
// header line of raw.
func asciiHeader(t *testing.T, raw []byte) {
	t.Helper()
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		for _, c := range []byte(line) {
			if c >= 0x7f || c < ' ' && c != '\t' {
				t.Errorf("raw byte %#02x in header line %q", c, line)
				break
			}
		}
	}
}

// TestCompose_nonASCIIAddress: an internationalized address (local part or
// domain) is refused with ErrNonASCIIAddress, never written raw; a
// non-ASCII display name is encoded.
func TestCompose_nonASCIIAddress(t *testing.T) {
	tpl := loadFerrara(t)
	for _, to := range []string{"josé@esempio.it", "utente@caffè.it", "studio@例え.jp", "\u202estudio@example.it"} {
		in := input(triage.Decision{Outcome: triage.Accepted})
		in.To = to
		m, err := Compose(tpl, in)
		if !errors.Is(err, ErrNonASCIIAddress) || m != nil {
			t.Errorf("Compose(To %q) = %v, %v; want ErrNonASCIIAddress", to, m, err)
		}
	}
	in := input(triage.Decision{Outcome: triage.Accepted})
	in.From = "risposte@inps-forlì.it"
	if _, err := Compose(tpl, in); !errors.Is(err, ErrNonASCIIAddress) {
		t.Errorf("Compose(From %q) = %v, want ErrNonASCIIAddress", in.From, err)
	}
	for _, to := range []string{"Studio <studio@example.it>", "studio@example.it\r\nBcc: v@example.it", ""} {
		in := input(triage.Decision{Outcome: triage.Accepted})
		in.To = to
		if _, err := Compose(tpl, in); err == nil {
			t.Errorf("Compose(To %q) = nil error, want one", to)
		}
	}

	in = input(triage.Decision{Outcome: triage.Accepted})
	in.To = "studio@xn--caff-9oa.it" // IDNA already applied by the sender: ASCII
	in.FromName = "Direzione provinciale INPS di Forlì \u202e \u2066"
	m, err := Compose(tpl, in)
	if err != nil {
		t.Fatal(err)
	}
	asciiHeader(t, m.Raw)
	h, _ := parse(t, m.Raw)
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Direzione provinciale INPS di Forlì" {
		t.Errorf("From = %v, %v", from, err)
	}
	if got := h.Get("To"); got != "<studio@xn--caff-9oa.it>" {
		t.Errorf("To = %q", got)
	}
}

// TestCompose_bidi: bidi controls of a hostile subject or decision reach
// neither the headers nor the body.
func TestCompose_bidi(t *testing.T) {
	const bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
	hostile := "Richiesta \u202eFDP.exe\u202c \u2066città\u2069 rimborso"
	tpl := loadFerrara(t)
	for _, d := range []triage.Decision{
		{Outcome: triage.Accepted, CodiceFiscale: "RSSMRA85T10A562S\u202e", Gestione: "artigiani",
			Summary: "sgravio \u2067avviso\u2069", Due: "2026-11-30"},
		{Outcome: triage.Refused, Reasons: []string{triage.ReasonInvalidCF, triage.ReasonWrongMailbox},
			InvalidValue: "RSSMRA85\u202eT10A562T", RightMailbox: "preavvisodiaccertamento.ferrara@inps.it"},
	} {
		in := input(d)
		in.OrigSubject = hostile
		m, err := Compose(tpl, in)
		if err != nil {
			t.Fatal(err)
		}
		asciiHeader(t, m.Raw)
		h, body := parse(t, m.Raw)
		subj, _ := h.Subject()
		for name, v := range map[string]string{"subject": subj, "body": body, "raw": string(m.Raw)} {
			if strings.ContainsAny(v, bidi) {
				t.Errorf("%v: bidi control in the %s: %q", d.Outcome, name, v)
			}
		}
		if !strings.Contains(subj, "Re: Richiesta FDP.exe città rimborso") || !strings.Contains(body, "Richiesta FDP.exe città rimborso") {
			t.Errorf("%v: quoted subject lost: %q\n%s", d.Outcome, subj, body)
		}
	}
}

// TestData_cleaned: every text field of the template data is cleaned.
func TestData_cleaned(t *testing.T) {
	in := input(triage.Decision{Outcome: triage.Refused, CodiceFiscale: "\u202eRSSMRA85T10A562S", Summary: "a\u2066b",
		InvalidValue: "x\u200fy", RightMailbox: "\u2068r@inps.it", Service: "www.inps.it\u202d"})
	in.OrigSubject, in.OfficeName, in.ExampleSubject = "s\u061c\r\nt", "INPS\u202b", "esempio\u202a"
	d := dataOf(in)
	for name, v := range map[string]string{"Subject": d.Subject, "CodiceFiscale": d.CodiceFiscale, "Summary": d.Summary,
		"InvalidValue": d.InvalidValue, "RightMailbox": d.RightMailbox, "Service": d.Service, "Office": d.Office,
		"ExampleSubject": d.ExampleSubject, "Sender": d.Sender} {
		for _, r := range v {
			if unicode.Is(unicode.Bidi_Control, r) || unicode.IsControl(r) {
				t.Errorf("%s = %q", name, v)
				break
			}
		}
	}
	if d.Subject != "s t" {
		t.Errorf("Subject = %q, want %q", d.Subject, "s t")
	}
}
