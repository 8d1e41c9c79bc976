package answer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gatewayd/internal/clock"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"gatewayd/internal/triage"
)

// Kinds of answers.
const (
	KindAcknowledgment = "accettazione"
	KindRefusal        = "rifiuto"
	KindFollowup       = "seguito" // a follow-up of an open case, acknowledged
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

// ErrNonASCIIAddress is why no answer is composed to or from an address
// with non-ASCII characters (an internationalized local part or domain):
// such an address needs SMTPUTF8 (RFC 6531, RFC 6532) end to end, which the
// sender does not negotiate, and the envelope recipient is the address as
// written, so encoding the domain (IDNA) in the header alone would not do.
var ErrNonASCIIAddress = errors.New("non-ASCII address: answers are sent without SMTPUTF8")

// Needed reports whether an outcome gets an answer: accepted and refused
// do; ignored (automatic mail, receipts) and quarantined never.
func Needed(o triage.Outcome) bool { return o == triage.Accepted || o == triage.Refused }

// Compose writes the answer to a decision. An address with non-ASCII
// characters is an error (ErrNonASCIIAddress), as is one that is not a bare
// addr-spec or a header that would not be pure ASCII.
func Compose(t *Templates, in Input) (*Message, error) {
	if err := checkAddress("recipient", in.To); err != nil {
		return nil, err
	}
	if err := checkAddress("sender", in.From); err != nil {
		return nil, err
	}
	kind := KindRefusal
	switch {
	case in.Decision.FollowsUp != "":
		kind, in.Protocol = KindFollowup, in.Decision.FollowsUp
	case in.Decision.Outcome == triage.Accepted:
		kind = KindAcknowledgment
	}
	body, err := t.body(kind, dataOf(in))
	if err != nil {
		return nil, err
	}
	m := &Message{Kind: kind, From: in.From, To: in.To,
		MessageID: fmt.Sprintf("gatewayd.%s.%s.%d.%s@%s", kind, strings.ToLower(in.OfficeCode), in.Record, token(), domainOf(in.From))}
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
	if err := checkHeaderASCII(m.Raw); err != nil {
		return nil, err
	}
	return m, nil
}

// token is the random part of a Message-ID: an answer is recognisable by
// its stored Message-ID when it is resent, and nobody can guess one (a
// forged PEC receipt would need it) nor meet it again after a restore.
func token() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkAddress accepts a bare addr-spec of ASCII characters only, as
// net/mail reads it back unchanged (no display name, no line breaks).
func checkAddress(role, addr string) error {
	for _, r := range addr {
		if r >= utf8.RuneSelf {
			return fmt.Errorf("%s address %q: %w", role, addr, ErrNonASCIIAddress)
		}
	}
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
		return fmt.Errorf("%s address %q is not a plain address", role, addr)
	}
	return nil
}

// checkHeaderASCII makes sure no header line of raw carries a byte that is
// not printable ASCII (RFC 5322 2.2): everything else must be encoded.
func checkHeaderASCII(raw []byte) error {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, c := range head {
		if c >= 0x7f || c < ' ' && c != '\r' && c != '\n' && c != '\t' {
			return fmt.Errorf("answer header has a raw byte %#02x", c)
		}
	}
	return nil
}

// body renders the templates of one answer.
func (t *Templates) body(kind string, d Data) (string, error) {
	names := []string{TplAcknowledgment}
	if kind == KindFollowup {
		names = []string{TplFollowup}
	}
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
	// The fields are cleaned already; this keeps bidi controls out of the
	// office's own texts too.
	return stripBidi(strings.Join(parts, "\n\n")) + "\n", nil
}

// dataOf gathers the template fields of an answer, every text cleaned.
func dataOf(in Input) Data {
	d := in.Decision
	rome := in.ReceivedAt.In(clock.Rome)
	due := d.Due
	if t, err := time.Parse("2006-01-02", d.Due); err == nil {
		due = t.Format("02/01/2006")
	}
	gestione := GestioneWords[d.Gestione]
	return Data{Office: in.OfficeName, Mailbox: in.Mailbox, Protocol: in.Protocol,
		Received: rome.Format("02/01/2006") + " alle " + rome.Format("15:04"), Due: due,
		Subject: in.OrigSubject, Sender: in.To, CodiceFiscale: d.CodiceFiscale, Gestione: gestione,
		Summary: d.Summary, InvalidValue: d.InvalidValue, RightMailbox: d.RightMailbox, Service: d.Service,
		Reasons: d.Reasons, ExampleSubject: in.ExampleSubject}.cleaned()
}

// cleaned returns d with every text field passed through Clean: most come
// from the incoming mail, the others are single lines too.
func (d Data) cleaned() Data {
	for _, f := range []*string{&d.Office, &d.Mailbox, &d.Protocol, &d.Received, &d.Due, &d.Subject, &d.Sender,
		&d.CodiceFiscale, &d.Gestione, &d.Summary, &d.InvalidValue, &d.RightMailbox, &d.Service, &d.ExampleSubject, &d.Manager, &d.Reason, &d.Act} {
		*f = Clean(*f)
	}
	return d
}

// subjectOf writes the answer's Subject around the cleaned original.
func subjectOf(kind string, in Input) string {
	orig := Clean(in.OrigSubject)
	if orig == "" {
		orig = "(senza oggetto)"
	}
	if len(orig) > 3 && strings.EqualFold(orig[:3], "re:") {
		orig = strings.TrimSpace(orig[3:]) // one "Re:" is enough
	}
	switch kind {
	case KindAcknowledgment:
		return fmt.Sprintf("Protocollo %s - Re: %s", Clean(in.Protocol), orig)
	case KindFollowup:
		return fmt.Sprintf("Seguito alla pratica %s - Re: %s", Clean(in.Protocol), orig)
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

// Clean removes line breaks, control characters and bidi controls (U+061C,
// U+200E-U+200F, U+202A-U+202E, U+2066-U+2069: they could make a quoted
// value read backwards) and bounds the length of a value taken from an
// incoming mail.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
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

// isBidiControl reports the characters of Unicode's Bidi_Control property.
func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// stripBidi removes the bidi controls from s.
func stripBidi(s string) string {
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
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
