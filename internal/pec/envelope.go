// Package pec reads PEC (posta elettronica certificata) envelopes and
// receipts and verifies their S/MIME signature (REQUIREMENTS C1, C8): the
// transport headers (X-Trasporto, X-Ricevuta, X-Riferimento-Message-ID),
// daticert.xml, the original message postacert.eml, and the provider's
// signature, checked at the signing time (providers' certificates expire
// soon after) against trust anchors, with the PEC certificate policy.
//
// It knows nothing of IMAP, SQL or SMTP: it reads bytes.
package pec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// Outcomes of a check. Only Certified counts as PEC.
const (
	Certified = "certified" // genuine, validly signed by a trusted PEC provider
	Tampered  = "tampered"  // signed, but the content does not match the signature
	Untrusted = "untrusted" // the signature holds, the signer is not a trusted PEC provider
	Unsigned  = "unsigned"  // PEC headers without a valid signature (a look-alike)
	NotPEC    = "not-pec"   // no PEC transport headers
)

// Signature states, as the triage contract names them.
const (
	SigValid     = "valid"
	SigInvalid   = "invalid"
	SigUntrusted = "untrusted"
	SigMissing   = "missing"
)

// Envelope is what was read and verified of a message.
type Envelope struct {
	Transport    string // X-Trasporto: posta-certificata, errore (anomalia)
	Receipt      string // X-Ricevuta: accettazione, avvenuta-consegna, …
	RefMessageID string // X-Riferimento-Message-ID, without <>
	Outcome      string
	Signature    string
	Detail       string // why, for operators
	SignerEmail  string
	SigningTime  time.Time
	Daticert     *Daticert
	// Original is the header of postacert.eml (transport envelopes).
	Original textproto.Header
}

// Kind returns the receipt type, else the transport type, else "none".
func (e *Envelope) Kind() string {
	switch {
	case e.Receipt != "":
		return e.Receipt
	case e.Transport != "":
		return e.Transport
	}
	return "none"
}

// MaxSize bounds what is read to verify a signature (PEC providers cap
// messages at 100 MB with attachments; the signed part is held in memory).
const MaxSize = 128 << 20

// parts are the pieces of a multipart/signed envelope, raw.
type parts struct {
	header textproto.Header
	signed []byte // the first part, canonical CRLF, as signed
	sig    []byte // DER of the detached signature
}

// split reads a message and cuts its multipart/signed body into the signed
// part and the signature. A message that is not multipart/signed returns
// its header and an error.
func split(raw []byte) (parts, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return parts{}, fmt.Errorf("reading header: %w", err)
	}
	p := parts{header: h}
	body, _ := io.ReadAll(br)
	ct, params, err := parseContentType(h.Get("Content-Type"))
	if err != nil || ct != "multipart/signed" || params["boundary"] == "" {
		return p, errors.New("not multipart/signed")
	}
	first, second, err := twoParts(body, params["boundary"])
	if err != nil {
		return p, err
	}
	p.signed = canonical(first)
	if p.sig, err = signatureDER(second); err != nil {
		return p, err
	}
	return p, nil
}

// twoParts returns the raw first and second parts of a multipart body.
// The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
func twoParts(body []byte, boundary string) ([]byte, []byte, error) {
	delim := []byte("--" + boundary)
	var starts, ends []int
	for off := 0; off < len(body); {
		i := bytes.Index(body[off:], delim)
		if i < 0 {
			break
		}
		at := off + i
		if at == 0 || body[at-1] == '\n' {
			end := at
			if end > 0 && body[end-1] == '\n' {
				end--
				if end > 0 && body[end-1] == '\r' {
					end--
				}
			}
			ends = append(ends, end)
			next := bytes.IndexByte(body[at:], '\n')
			if next < 0 {
				break
			}
			starts = append(starts, at+next+1)
		}
		off = at + len(delim)
	}
	if len(starts) < 3 {
		return nil, nil, errors.New("multipart/signed without its two parts and closing delimiter")
	}
	return body[starts[0]:ends[1]], body[starts[1]:ends[2]], nil
}

// canonical turns bare LF into CRLF, the form S/MIME signs.
func canonical(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/40)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

func parseContentType(v string) (string, map[string]string, error) { return parseMediaType(v) }

// receiptHeaders fills the transport fields from the envelope header.
func (e *Envelope) receiptHeaders(h textproto.Header) {
	e.Transport = strings.ToLower(strings.TrimSpace(h.Get("X-Trasporto")))
	e.Receipt = strings.ToLower(strings.TrimSpace(h.Get("X-Ricevuta")))
	e.RefMessageID = strings.Trim(strings.TrimSpace(h.Get("X-Riferimento-Message-ID")), "<>")
}
