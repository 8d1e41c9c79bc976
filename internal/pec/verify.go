package pec

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// PolicyPEC is the certificate policy of PEC providers' signing
// certificates (AgID).
var PolicyPEC = asn1.ObjectIdentifier{1, 3, 76, 16, 3, 1, 1}

// Verifier checks envelopes against a set of trust anchors.
type Verifier struct {
	roots *x509.CertPool
}

// NewVerifier trusts the system's roots plus anchors, or only anchors
// when replace is set.
func NewVerifier(anchors []*x509.Certificate, replace bool) *Verifier {
	var pool *x509.CertPool
	if !replace {
		pool, _ = x509.SystemCertPool()
	}
	if pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range anchors {
		pool.AddCert(c)
	}
	return &Verifier{roots: pool}
}

// Check reads and verifies a whole message (at most MaxSize bytes).
func (v *Verifier) Check(r io.Reader) *Envelope {
	raw, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	e := &Envelope{Outcome: NotPEC, Signature: SigMissing}
	if err != nil {
		e.Detail = err.Error()
		return e
	}
	p, err := split(raw)
	e.receiptHeaders(p.header)
	if e.Transport == "" && e.Receipt == "" {
		e.Detail = "no X-Trasporto or X-Ricevuta header"
		return e
	}
	e.Outcome = Unsigned
	switch {
	case len(raw) > MaxSize:
		e.Detail = "over the size that can be verified"
		return e
	case err != nil:
		e.Detail = err.Error()
		return e
	}
	v.verify(e, p)
	if e.Outcome == Certified {
		e.readContent(p.signed)
	}
	return e
}

// verify checks the signature at the signing time, then the chain to the
// anchors, then that the signer is a PEC provider of the From domain.
func (v *Verifier) verify(e *Envelope, p parts) {
	p7, err := pkcs7.Parse(p.sig)
	if err != nil {
		e.Detail = fmt.Sprintf("unreadable signature: %v", err)
		return
	}
	p7.Content = p.signed
	e.SigningTime = signingTime(p7, p)
	if err := p7.VerifyWithChainAtTime(nil, e.SigningTime); err != nil {
		var mismatch *pkcs7.MessageDigestMismatchError
		var notValid *pkcs7.SigningTimeNotValidError
		switch {
		case errors.As(err, &mismatch):
			e.Outcome, e.Signature, e.Detail = Tampered, SigInvalid, "the content does not match the signature's digest"
		case errors.As(err, &notValid):
			e.Outcome, e.Signature, e.Detail = Untrusted, SigUntrusted, err.Error()
		default:
			e.Outcome, e.Signature, e.Detail = Tampered, SigInvalid, err.Error()
		}
		return
	}
	ee := p7.GetOnlySigner()
	if ee == nil {
		e.Outcome, e.Signature, e.Detail = Untrusted, SigUntrusted, "not exactly one signer"
		return
	}
	e.SignerEmail = strings.Join(ee.EmailAddresses, ",")
	if err := p7.VerifyWithChainAtTime(v.roots, e.SigningTime); err != nil {
		e.Outcome, e.Signature, e.Detail = Untrusted, SigUntrusted, err.Error()
		return
	}
	if err := providerChecks(ee, p.header.Get("From")); err != nil {
		e.Outcome, e.Signature, e.Detail = Untrusted, SigUntrusted, err.Error()
		return
	}
	e.Outcome, e.Signature = Certified, SigValid
}

// signingTime is the signed attribute, else the Date header, else now.
func signingTime(p7 *pkcs7.PKCS7, p parts) time.Time {
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &t); err == nil && !t.IsZero() {
		return t
	}
	if t, err := mail.ParseDate(p.header.Get("Date")); err == nil {
		return t
	}
	return time.Now()
}

// providerChecks requires the PEC policy and an e-mail address of the
// envelope's From domain in the signer's certificate.
func providerChecks(ee *x509.Certificate, from string) error {
	hasPolicy := false
	for _, oid := range ee.PolicyIdentifiers {
		hasPolicy = hasPolicy || oid.Equal(PolicyPEC)
	}
	for _, oid := range ee.Policies {
		hasPolicy = hasPolicy || oid.String() == PolicyPEC.String()
	}
	if !hasPolicy {
		return fmt.Errorf("signer certificate lacks the PEC policy %s", PolicyPEC)
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return fmt.Errorf("envelope From %q unreadable: %w", from, err)
	}
	_, domain, _ := strings.Cut(addr.Address, "@")
	for _, e := range ee.EmailAddresses {
		if _, d, _ := strings.Cut(e, "@"); strings.EqualFold(d, domain) {
			return nil
		}
	}
	return fmt.Errorf("signer certificate has no address of %s (has %v)", domain, ee.EmailAddresses)
}
