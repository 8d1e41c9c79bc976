// Package mailparse reads a raw message into the facts that intake and
// triage need, and says precisely why a message is malformed.
//
// It knows nothing of IMAP, SQL or SMTP: it reads bytes. Bodies are streamed,
// never held whole in memory, so a message of any size is inspected in
// constant memory.
package mailparse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"

	"gatewayd/internal/panics"
)

// Reasons a message is quarantined instead of triaged.
const (
	ReasonEmpty            = "empty-message"
	ReasonMalformedHeader  = "malformed-header"
	ReasonHeaderEncoding   = "invalid-header-encoding"
	ReasonMissingMessageID = "missing-message-id"
	ReasonMalformedMIME    = "malformed-mime"
	ReasonOverSizeCap      = "over-size-cap"
	ReasonParserFailure    = "parser-failure"
)

// maxHeaderBytes bounds the header section read from a message.
const maxHeaderBytes = 1 << 20

// Facts are the header fields intake records and triage reads.
type Facts struct {
	MessageID string // without angle brackets
	From      string
	To        string
	Subject   string // RFC 2047 decoded
	Date      string // the Date header as written
	Header    textproto.Header
	// Attachments counts the parts sent as files: a Content-Disposition
	// attachment or a file name (Inspect only).
	Attachments int
	// DeliveryReport is set when a delivery status report is found at any
	// depth: multipart/report; report-type=delivery-status, or a
	// message/delivery-status part (Inspect only).
	DeliveryReport bool
}

// Problem says why a message cannot be triaged; Detail is for operators.
type Problem struct {
	Reason string
	Detail string
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Detail }

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// Inspect reads a whole message from r, returning its facts, or the
// problem that sends it to quarantine. A panic in a parser is caught and
// reported as ReasonParserFailure. Facts are returned as far as they could
// be read, even with a problem.
func Inspect(r io.Reader) (f Facts, p *Problem) {
	defer func() {
		if v := recover(); v != nil {
			panics.Recovered(nil, "mailparse", "panic in the MIME parser: the message is quarantined", v)
			p = &Problem{Reason: ReasonParserFailure, Detail: fmt.Sprint(v)}
		}
	}()
	cr := &capReader{r: r, left: maxHeaderBytes + 64<<10}
	br := readers.Get().(*bufio.Reader)
	br.Reset(cr)
	defer func() { br.Reset(nil); readers.Put(br) }() // header fields are copies, not slices of its buffer
	if isEmpty(br) {
		return f, &Problem{Reason: ReasonEmpty, Detail: "the message has no header and no body"}
	}
	h, err := textproto.ReadHeader(br)
	cr.left = -1 // the body is read without a cap: it is streamed, not kept
	if err != nil {
		return f, &Problem{Reason: ReasonMalformedHeader, Detail: err.Error()}
	}
	f = factsOf(h)
	if p := checkHeaderEncoding(h); p != nil {
		return f, p
	}
	if f.MessageID == "" {
		return f, &Problem{Reason: ReasonMissingMessageID, Detail: "no Message-ID header"}
	}
	if err := walkMIME(h, br, &f); err != nil {
		return f, &Problem{Reason: ReasonMalformedMIME, Detail: err.Error()}
	}
	return f, nil
}

// readers keeps Inspect's 64 KB look-ahead buffers: one per message
// otherwise, the largest allocation of a busy intake.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// InspectHeader reads only the header section of r (for a message whose
// body was not fetched), returning its facts or the problem.
func InspectHeader(r io.Reader) (f Facts, p *Problem) {
	defer func() {
		if v := recover(); v != nil {
			panics.Recovered(nil, "mailparse", "panic in the MIME parser: the message is quarantined", v)
			p = &Problem{Reason: ReasonParserFailure, Detail: fmt.Sprint(v)}
		}
	}()
	h, err := textproto.ReadHeader(bufio.NewReader(io.LimitReader(r, maxHeaderBytes)))
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return f, &Problem{Reason: ReasonMalformedHeader, Detail: err.Error()}
	}
	return factsOf(h), nil
}

// capReader fails once more than left bytes were read (left < 0: no cap),
// bounding what a header without an end can make the parser hold.
type capReader struct {
	r    io.Reader
	left int64
}

var errHeaderTooLong = errors.New("header section over 1 MiB")

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return c.r.Read(p)
	}
	if c.left == 0 {
		return 0, errHeaderTooLong
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// isEmpty reports whether the message holds only white space.
func isEmpty(br *bufio.Reader) bool {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil || len(b) < i {
			return true
		}
		if c := b[i-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
		if i >= 4096 {
			return false
		}
	}
}

func factsOf(h textproto.Header) Facts {
	return Facts{
		MessageID: messageID(h.Get("Message-Id")),
		From:      decode(h.Get("From")),
		To:        decode(h.Get("To")),
		Subject:   decode(h.Get("Subject")),
		Date:      strings.TrimSpace(h.Get("Date")),
		Header:    h,
	}
}

// messageID returns the msg-id without angle brackets and folding space.
func messageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	return strings.Join(strings.Fields(v), "")
}

// DecodeHeader decodes RFC 2047 encoded words in a header value (any
// charset); on failure it keeps the raw text.
func DecodeHeader(v string) string { return decode(v) }

// decode decodes RFC 2047 encoded words; on failure it keeps the raw text.
func decode(v string) string {
	out, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(out)
}

// checkHeaderEncoding refuses raw 8-bit bytes that are not UTF-8 (RFC 5322
// headers are ASCII; RFC 6532 allows UTF-8, nothing else).
func checkHeaderEncoding(h textproto.Header) *Problem {
	fields := h.Fields()
	for fields.Next() {
		raw, err := fields.Raw()
		if err != nil {
			continue
		}
		if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
			return &Problem{Reason: ReasonHeaderEncoding,
				Detail: fmt.Sprintf("header %q holds bytes that are neither ASCII nor UTF-8", fields.Key())}
		}
	}
	return nil
}

// walkMIME reads the message's MIME structure and reports what makes it
// unreadable: a Content-Type that does not parse, a multipart without a
// boundary or without any part, a part whose header is broken or over
// maxPartHeader, nesting deeper than 50. Bodies are not decoded: a bad
// base64 attachment or a missing closing boundary leave a message readable
// (triage and the PEC check judge those), as mail clients do. Bodies pass
// through in constant memory; only part headers are held, each bounded.
func walkMIME(h textproto.Header, body io.Reader, f *Facts) error {
	b := &budget{r: body}
	return walkPart(h, b, b, 0, f)
}

// maxPartHeader bounds what is read to reach a part's body: the preamble
// or the previous part's rest after its body was drained, the delimiter
// and the part's header (plus the readers' look-ahead).
const maxPartHeader = 1<<20 + 256<<10

func walkPart(h textproto.Header, body io.Reader, b *budget, depth int, f *Facts) error {
	if depth > 50 {
		return errors.New("MIME nesting deeper than 50 levels")
	}
	t, params := "", map[string]string{}
	if v := h.Get("Content-Type"); v != "" {
		var err error
		t, params, err = mime.ParseMediaType(v)
		if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
			return fmt.Errorf("Content-Type %q: %w", clipDetail(v), err)
		}
		t = strings.ToLower(t)
		if t == "message/delivery-status" || t == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
			f.DeliveryReport = true
		}
	}
	if depth > 0 && IsAttachment(h) {
		f.Attachments++
	}
	if !strings.HasPrefix(t, "multipart/") {
		return nil
	}
	if params["boundary"] == "" {
		return errors.New("multipart without a boundary")
	}
	return walkParts(textproto.NewMultipartReader(body, params["boundary"]), b, depth, f)
}

// walkParts walks the parts of one multipart body, each part's header
// read under the budget, each body drained raw before the next.
func walkParts(mr *textproto.MultipartReader, b *budget, depth int, f *Facts) error {
	parts := 0
	for {
		b.arm()
		p, err := mr.NextPart()
		b.disarm()
		switch {
		case errors.Is(err, errPartHeader):
			return fmt.Errorf("part %d: %w", parts+1, err)
		case errors.Is(err, io.EOF) || (err != nil && strings.HasSuffix(err.Error(), "EOF")):
			if parts == 0 {
				return errors.New("multipart whose boundary never appears: no part can be read")
			}
			return nil // the end, or a truncated last part: readable up to there
		case err != nil:
			return fmt.Errorf("part %d: %w", parts+1, err)
		}
		parts++
		if err := walkPart(p.Header, p, b, depth+1, f); err != nil {
			return fmt.Errorf("part %d: %w", parts, err)
		}
		if _, err := io.Copy(io.Discard, p); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.HasSuffix(err.Error(), "EOF") {
			return fmt.Errorf("part %d: %w", parts, err)
		}
	}
}

// budget counts what is read while armed and fails past maxPartHeader.
type budget struct {
	r     io.Reader
	armed bool
	used  int64
}

var errPartHeader = errors.New("over 1 MiB before a part's body (preamble or part header)")

func (b *budget) arm()    { b.armed, b.used = true, 0 }
func (b *budget) disarm() { b.armed = false }

func (b *budget) Read(p []byte) (int, error) {
	if b.armed && b.used > maxPartHeader {
		return 0, errPartHeader
	}
	n, err := b.r.Read(p)
	if b.armed {
		b.used += int64(n)
	}
	return n, err
}

// IsAttachment reports a part sent as a file: a Content-Disposition
// attachment, or a file name on a part that is not multipart, unless it
// is an inline part shown in the text (a logo, referenced by Content-ID).
func IsAttachment(th textproto.Header) bool {
	h := message.Header{Header: th}
	disp, dparams, _ := h.ContentDisposition()
	if strings.EqualFold(disp, "attachment") {
		return true
	}
	if h.Get("Content-Id") != "" {
		return false
	}
	t, params, _ := h.ContentType()
	return !strings.HasPrefix(t, "multipart/") && (dparams["filename"] != "" || params["name"] != "")
}

func clipDetail(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ReceivedAt is when the mail reached its mailbox as its header says it:
// the date of the topmost Received field (the office's own server stamps
// it), else the Date header; the zero time when neither reads. The daemon
// uses the IMAP INTERNALDATE instead, which the same server sets.
func ReceivedAt(f Facts) time.Time {
	if v := f.Header.Get("Received"); v != "" {
		if i := strings.LastIndexByte(v, ';'); i >= 0 {
			if t, err := mail.ParseDate(strings.TrimSpace(v[i+1:])); err == nil {
				return t
			}
		}
	}
	return DateOf(f)
}

// DateOf parses the Date header, or returns the zero time.
func DateOf(f Facts) time.Time {
	t, err := mail.ParseDate(f.Date)
	if err != nil {
		return time.Time{}
	}
	return t
}

// MessageIDs reads the Message-IDs of an In-Reply-To or References value.
func MessageIDs(v string) []string {
	var out []string
	for _, f := range strings.Fields(v) {
		if id := strings.Trim(f, "<>,"); strings.Contains(id, "@") {
			out = append(out, id)
		}
	}
	return out
}
