package answer

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"gatewayd/internal/triage"
)

// Kinds of answers.
const (
	KindAcknowledgment = "accettazione"
	KindRefusal        = "rifiuto"
)

// Input is what an answer is written from.
type Input struct {
	OfficeName     string
	OfficeCode     string
	FromName       string // display name of the answering mailbox (default: the office)
	From           string // the answering mailbox's address
	Mailbox        string // the address the mail arrived at
	To             string // the real sender
	OrigSubject    string
	OrigMessageID  string // without <>
	OrigReferences string // the original's References header, as written
	Record         int64  // the message's record id: with the kind, it makes the Message-ID
	Decision       triage.Decision
	Protocol       string
	ReceivedAt     time.Time
	Now            time.Time
	ExampleSubject string
}

// Message is a composed answer.
type Message struct {
	Kind      string
	MessageID string // without <>
	From, To  string
	Raw       []byte // RFC 5322, CRLF
}

// Needed reports whether an outcome gets an answer: accepted and refused
// do; ignored (automatic mail, receipts) and quarantined never.
func Needed(o triage.Outcome) bool { return o == triage.Accepted || o == triage.Refused }

// Compose writes the answer to a decision.
func Compose(t *Templates, in Input) (*Message, error) {
	kind := KindRefusal
	if in.Decision.Outcome == triage.Accepted {
		kind = KindAcknowledgment
	}
	body, err := t.body(kind, dataOf(in))
	if err != nil {
		return nil, err
	}
	m := &Message{Kind: kind, From: in.From, To: in.To,
		MessageID: fmt.Sprintf("gatewayd.%s.%s.%d@%s", kind, strings.ToLower(in.OfficeCode), in.Record, domainOf(in.From))}
	h := header(in, m, subjectOf(kind, in))
	var b bytes.Buffer
	w, err := message.CreateWriter(&b, h.Header)
	if err != nil {
		return nil, fmt.Errorf("writing answer: %w", err)
	}
	if _, err := w.Write([]byte(crlf(body))); err != nil {
		return nil, fmt.Errorf("writing answer: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("writing answer: %w", err)
	}
	m.Raw = b.Bytes()
	return m, nil
}

// body renders the templates of one answer.
func (t *Templates) body(kind string, d Data) (string, error) {
	names := []string{TplAcknowledgment}
	if kind == KindRefusal {
		names = []string{TplRefusalHeader}
		for _, r := range d.Reasons {
			if _, ok := t.t[ReasonTemplate(r)]; ok {
				names = append(names, ReasonTemplate(r))
			}
		}
	}
	names = append(names, TplSignature)
	var parts []string
	for _, n := range names {
		s, err := t.Render(n, d)
		if err != nil {
			return "", err
		}
		parts = append(parts, strings.TrimRight(s, "\n"))
	}
	return strings.Join(parts, "\n\n") + "\n", nil
}

func dataOf(in Input) Data {
	d := in.Decision
	rome := in.ReceivedAt
	if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
		rome = rome.In(loc)
	}
	due := d.Due
	if t, err := time.Parse("2006-01-02", d.Due); err == nil {
		due = t.Format("02/01/2006")
	}
	gestione := GestioneWords[d.Gestione]
	return Data{Office: in.OfficeName, Mailbox: in.Mailbox, Protocol: in.Protocol,
		Received: rome.Format("02/01/2006") + " alle " + rome.Format("15:04"), Due: due,
		Subject: Clean(in.OrigSubject), Sender: in.To, CodiceFiscale: d.CodiceFiscale, Gestione: gestione,
		Summary: Clean(d.Summary), InvalidValue: Clean(d.InvalidValue), RightMailbox: d.RightMailbox, Service: d.Service,
		Reasons: d.Reasons, ExampleSubject: in.ExampleSubject}
}

func subjectOf(kind string, in Input) string {
	orig := Clean(in.OrigSubject)
	if orig == "" {
		orig = "(senza oggetto)"
	}
	if kind == KindAcknowledgment {
		return fmt.Sprintf("Protocollo %s - Re: %s", in.Protocol, orig)
	}
	return "Non presa in carico - Re: " + orig
}

// header writes the RFC 5322 and RFC 3834 fields; every value taken from
// the incoming mail is cleaned of line breaks and control characters, and
// encoded (RFC 2047) where it is not ASCII.
func header(in Input, m *Message, subject string) mail.Header {
	var h mail.Header
	name := in.FromName
	if name == "" {
		name = in.OfficeName
	}
	h.SetAddressList("From", []*mail.Address{{Name: Clean(name), Address: in.From}})
	h.SetAddressList("To", []*mail.Address{{Address: in.To}})
	h.SetSubject(subject)
	h.SetDate(in.Now)
	h.SetMessageID(m.MessageID)
	if id := cleanMsgID(in.OrigMessageID); id != "" {
		h.SetMsgIDList("In-Reply-To", []string{id})
		refs := []string{}
		for _, r := range strings.Fields(in.OrigReferences) {
			if r := cleanMsgID(strings.Trim(r, "<>")); r != "" && len(refs) < 20 {
				refs = append(refs, r)
			}
		}
		h.SetMsgIDList("References", append(refs, id))
	}
	h.Set("Auto-Submitted", "auto-replied") // RFC 3834 5
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	return h
}

// Clean removes line breaks and control characters and bounds the length
// of a value taken from an incoming mail.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}

// cleanMsgID keeps a msg-id only if it has the shape left@right.
func cleanMsgID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 250 || !strings.Contains(id, "@") {
		return ""
	}
	for _, r := range id {
		if r <= ' ' || r > '~' || r == '<' || r == '>' {
			return ""
		}
	}
	return id
}

func domainOf(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok && d != "" {
		return strings.ToLower(d)
	}
	return "gatewayd.invalid"
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
