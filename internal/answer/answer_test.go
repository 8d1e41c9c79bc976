package answer

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

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
	m, err := Compose(loadFerrara(t), input(triage.Decision{Outcome: triage.Accepted, CodiceFiscale: "RSSMRA85T10A562S",
		Gestione: "artigiani", Summary: "richiesta", Due: "2026-11-30"}))
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
			"References": "<a@example.it> <b@example.it> <orig@example.it>", "Message-Id": "<gatewayd.accettazione.fe.42@inps.it>",
		}[name]
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
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
