// Package pec reads PEC (posta elettronica certificata) envelopes and
// receipts and verifies their S/MIME signature (REQUIREMENTS C1, C8).
//
// Only what the provider signed counts (STYLE.md 17): the kind of a
// message (transport envelope, receipt, anomaly envelope), its sender,
// recipients and subject come from the signed daticert.xml and the signed
// postacert.eml, never from the outer headers (X-Trasporto, X-Ricevuta,
// From, Subject), which anyone can change after signing. The outer
// headers are kept only to be recorded beside the signed facts.
//
// A check streams: the signed part is hashed as it is read from the
// message (an io.ReaderAt, e.g. a spool section or a file); only bounded
// pieces (the signature, daticert.xml, the header of postacert.eml) are
// held in memory, so a message of any size is checked in constant memory.
//
// It knows nothing of IMAP, SQL or SMTP: it reads bytes.
package pec

import (
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// Outcomes of a check. Only Certified means "validly signed by a trusted
// PEC provider"; what was certified is the envelope's Kind.
const (
	Certified = "certified" // genuine, validly signed by a trusted PEC provider
	Tampered  = "tampered"  // signed, but the content does not match the signature
	Untrusted = "untrusted" // the signature holds, the signer is not a trusted PEC provider
	Unsigned  = "unsigned"  // PEC headers or a signed shape without a valid signature (a look-alike)
	NotPEC    = "not-pec"   // nothing of a PEC: no PEC headers, no S/MIME signature
)

// Signature states, as the triage contract names them.
const (
	SigValid     = "valid"
	SigInvalid   = "invalid"
	SigUntrusted = "untrusted"
	SigMissing   = "missing"
)

// Kinds of PEC messages (DM 2 novembre 2005, regole tecniche; daticert.xml
// "tipo"). KindAnomaly has no daticert: it is a provider-signed envelope
// around an ordinary mail that reached a PEC address.
const (
	KindTransport = "posta-certificata"
	KindAnomaly   = "errore"
	KindNone      = "none"
)

// receiptKinds are the seven receipts and notices of the technical rules.
var receiptKinds = map[string]bool{
	"accettazione": true, "non-accettazione": true, "presa-in-carico": true, "avvenuta-consegna": true,
	"errore-consegna": true, "preavviso-errore-consegna": true, "rilevazione-virus": true,
}

// IsReceiptKind reports one of the seven receipt kinds.
func IsReceiptKind(k string) bool { return receiptKinds[k] }

// Envelope is what was read and verified of a message.
type Envelope struct {
	// The outer headers, as written outside the signature: recorded, never trusted.
	OuterTransport string // X-Trasporto
	OuterReceipt   string // X-Ricevuta
	OuterRef       string // X-Riferimento-Message-ID, without <>

	Outcome     string
	Signature   string
	Detail      string // why, for operators
	SignerEmail string
	SigningTime time.Time

	// The signed content; set only when Outcome is Certified.
	Daticert    *Daticert
	Original    textproto.Header // the header of postacert.eml
	HasOriginal bool
	// OriginalAttachments counts the files attached to postacert.eml.
	OriginalAttachments int
	// Ambiguous: the signed content is not laid out as providers write
	// it (two daticert, one after postacert, an unreadable one): its kind
	// is unknown.
	Ambiguous    bool
	daticertSeen bool
}

// SignedKind is the kind the provider signed: daticert's tipo, or
// KindAnomaly for a signed envelope around an original without daticert;
// "" when the envelope is not certified or its signed kind is unknown.
func (e *Envelope) SignedKind() string {
	if e.Outcome != Certified || e.Ambiguous || e.daticertSeen && e.Daticert == nil {
		return ""
	}
	if e.Daticert != nil {
		switch t := e.Daticert.Tipo; {
		case t == KindTransport && e.HasOriginal, receiptKinds[t]:
			return t
		case t == KindAnomaly && e.HasOriginal:
			return KindAnomaly
		}
		return ""
	}
	if e.HasOriginal {
		return KindAnomaly
	}
	return ""
}

// OuterKind is what the outer headers claim: the receipt kind, else the
// transport kind, else KindNone.
func (e *Envelope) OuterKind() string {
	switch {
	case e.OuterReceipt != "":
		return e.OuterReceipt
	case e.OuterTransport != "":
		return e.OuterTransport
	}
	return KindNone
}

// Kind is the signed kind when there is one, else the outer claim.
func (e *Envelope) Kind() string {
	if k := e.SignedKind(); k != "" {
		return k
	}
	return e.OuterKind()
}

// HasPECHeaders reports outer PEC transport or receipt headers.
func (e *Envelope) HasPECHeaders() bool { return e.OuterTransport != "" || e.OuterReceipt != "" }

// AddressedTo reports whether addr (case-insensitive) is among the signed
// recipients (daticert's destinatari) of a certified envelope.
func (e *Envelope) AddressedTo(addr string) bool {
	if e.SignedKind() == "" || e.Daticert == nil {
		return false
	}
	for _, d := range e.Daticert.Destinatari {
		if strings.EqualFold(strings.TrimSpace(d), strings.TrimSpace(addr)) {
			return true
		}
	}
	return false
}

// FinalFailure reports a certified receipt that ends a delivery for good:
// non-accettazione, errore-consegna, rilevazione-virus, and a
// preavviso-errore-consegna whose errore-esteso starts with 5.4.1 (some
// providers send the final notice under that name). A plain
// preavviso-errore-consegna is the 12-hour warning, not final.
func (e *Envelope) FinalFailure() bool {
	switch e.SignedKind() {
	case "non-accettazione", "errore-consegna", "rilevazione-virus":
		return true
	case "preavviso-errore-consegna":
		return strings.HasPrefix(strings.TrimSpace(e.Daticert.ErroreEsteso), "5.4.1")
	}
	return false
}
