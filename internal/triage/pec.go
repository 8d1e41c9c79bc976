package triage

import (
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/emersion/go-message/textproto"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/pec"
)

// PECResult is what a PEC check learns of a message. Every field but
// Info's outer claims comes from what the provider signed.
type PECResult struct {
	Info      PECInfo
	Certified bool   // validly signed by a trusted PEC provider
	Kind      string // the signed kind: pec.KindTransport, pec.KindAnomaly, a receipt; "" unless certified
	Tampered  bool   // signed, but the content does not match the signature
	// The signed content.
	Subject    string           // transport: postacert.eml's subject, else daticert's oggetto
	Sender     string           // transport: daticert's mittente
	OrigID     string           // postacert.eml's Message-ID
	OrigDate   string           // postacert.eml's Date header
	Inner      textproto.Header // postacert.eml's header (transport, anomaly)
	Recipients []string         // daticert's destinatari
	Ref        string           // receipts: daticert's msgid, the message the receipt is about
	// FinalFailure: a receipt that ends the delivery for good.
	FinalFailure bool
	// ReceiptFrom and Recipients (daticert's mittente and destinatari) say
	// whose message a receipt is about.
	ReceiptFrom string
	// InnerAttachments counts the files attached to the original.
	InnerAttachments int
	// Signer are the addresses in the provider's certificate: never a
	// sender to answer.
	Signer []string
}

// PECChecker verifies PEC envelopes (REQUIREMENTS C1, C8).
type PECChecker interface {
	Check(raw io.ReadSeeker) PECResult
}

// PEC is the PECChecker of a pec.Verifier.
type PEC struct {
	Verifier *pec.Verifier
}

// Check verifies the message, streaming it (raw is read at offsets when it
// is an io.ReaderAt, as files and spool sections are).
func (p PEC) Check(raw io.ReadSeeker) PECResult {
	size, err := raw.Seek(0, io.SeekEnd)
	if err != nil {
		return PECResult{Info: PECInfo{Kind: pec.KindNone, Signature: pec.SigMissing, Detail: err.Error()}}
	}
	ra, ok := raw.(io.ReaderAt)
	if !ok {
		ra = &seekReaderAt{r: raw}
	}
	return resultOf(p.Verifier.Check(ra, size))
}

// resultOf turns a checked envelope into what triage uses.
func resultOf(e *pec.Envelope) PECResult {
	res := PECResult{
		Info: PECInfo{Envelope: e.HasPECHeaders() || e.SignedKind() != "", Kind: e.Kind(), Signature: e.Signature,
			Detail: e.Detail},
		Certified: e.Outcome == pec.Certified,
		Kind:      e.SignedKind(),
		Tampered:  e.Outcome == pec.Tampered,
	}
	if res.Certified && res.Kind == "" {
		res.Info.Detail = "signed by a PEC provider, but neither a transport envelope, an anomaly envelope nor a receipt"
	}
	if res.Kind != "" && e.OuterKind() != res.Kind {
		res.Info.OuterKind = e.OuterKind() // recorded beside the signed kind
	}
	if e.HasOriginal {
		res.Inner = e.Original
		res.OrigID = strings.Trim(strings.TrimSpace(e.Original.Get("Message-Id")), "<>")
		res.OrigDate = strings.TrimSpace(e.Original.Get("Date"))
		res.Subject = mailparse.DecodeHeader(e.Original.Get("Subject"))
	}
	res.InnerAttachments = e.OriginalAttachments
	if e.SignerEmail != "" {
		res.Signer = strings.Split(e.SignerEmail, ",")
	}
	if d := e.Daticert; d != nil && res.Kind != "" {
		res.Recipients, res.Ref, res.ReceiptFrom = d.Destinatari, d.MsgID, d.Mittente
		if res.Kind == pec.KindTransport {
			res.Sender, res.Info.Identificativo = d.Mittente, d.Identificativo
			if res.Subject == "" {
				res.Subject = d.Oggetto
			}
		}
	}
	res.FinalFailure = e.FinalFailure()
	res.Info.Sender = res.Sender
	return res
}

// seekReaderAt reads at offsets through Seek and Read.
type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.r, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
