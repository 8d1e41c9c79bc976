package pec

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"gatewayd/internal/panics"

	"github.com/emersion/go-message/textproto"
	"github.com/smallstep/pkcs7"
)

// PolicyPEC is the certificate policy of PEC providers' signing
// certificates (AgID).
var PolicyPEC = asn1.ObjectIdentifier{1, 3, 76, 16, 3, 1, 1}

// maxInline bounds a signed part verified without signed attributes: the
// signature then covers the content itself, which must be in memory.
const maxInline = 4 << 20

// Verifier checks envelopes against a set of trust anchors. It is safe
// for concurrent use.
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

// Check reads and verifies a message of size bytes. It never panics: a
// panic in a parser (none is known; FuzzCheck looks for them) is reported
// as an unsigned look-alike with its detail.
func (v *Verifier) Check(r io.ReaderAt, size int64) (e *Envelope) {
	defer func() {
		if p := recover(); p != nil {
			panics.Recovered(nil, "pec", "panic in the PEC parser: the message is judged an unsigned look-alike", p)
			e = &Envelope{Outcome: Unsigned, Signature: SigMissing, Detail: fmt.Sprintf("unreadable envelope (parser panic: %v)", p)}
		}
	}()
	return v.check(r, size)
}

func (v *Verifier) check(r io.ReaderAt, size int64) *Envelope {
	e := &Envelope{Outcome: NotPEC, Signature: SigMissing}
	l, err := readLayout(r, size)
	e.outerHeaders(&l.header)
	if err != nil {
		if e.HasPECHeaders() {
			e.Outcome, e.Detail = Unsigned, err.Error()
		} else {
			e.Detail = "no PEC headers and no S/MIME signature"
		}
		return e
	}
	e.Outcome = Unsigned
	v.verify(e, r, l)
	if e.Outcome == Certified {
		e.readContent(r, l.signed)
	}
	return e
}

// outerHeaders records the PEC headers written outside the signature.
func (e *Envelope) outerHeaders(h *textproto.Header) {
	e.OuterTransport = strings.ToLower(strings.TrimSpace(h.Get("X-Trasporto")))
	e.OuterReceipt = strings.ToLower(strings.TrimSpace(h.Get("X-Ricevuta")))
	e.OuterRef = strings.Trim(strings.TrimSpace(h.Get("X-Riferimento-Message-ID")), "<>")
}

// verify checks the signature at the signing time, then the chain to the
// anchors, then that the signer is a PEC provider of the From domain.
func (v *Verifier) verify(e *Envelope, r io.ReaderAt, l layout) {
	der, err := signatureDER(r, l.sig)
	if err != nil {
		e.Detail = err.Error()
		return
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		e.Detail = fmt.Sprintf("unreadable signature: %v", err)
		return
	}
	if err := attachContent(p7, r, l.signed); err != nil {
		e.Detail = err.Error()
		return
	}
	e.SigningTime = signingTime(p7)
	if err := p7.VerifyWithChainAtTime(nil, e.SigningTime); err != nil {
		e.signatureFailed(err)
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
	if err := providerChecks(ee, l.header.Get("From")); err != nil {
		e.Outcome, e.Signature, e.Detail = Untrusted, SigUntrusted, err.Error()
		return
	}
	e.Outcome, e.Signature = Certified, SigValid
}

func (e *Envelope) signatureFailed(err error) {
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
}

// attachContent gives the signature its content: with signed attributes
// (as PEC providers sign) a hasher that streams the signed part from r;
// without them the content itself, when small enough to hold.
func attachContent(p7 *pkcs7.PKCS7, r io.ReaderAt, s span) error {
	p7.Hasher = &spanHasher{r: r, s: s, sums: map[crypto.Hash][]byte{}}
	p7.Content = []byte{} // read through the hasher, never held
	var digest []byte
	if p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeMessageDigest, &digest) == nil {
		return nil
	}
	if s.len() > maxInline {
		return fmt.Errorf("a signature without signed attributes over %d bytes cannot be verified", s.len())
	}
	var b strings.Builder
	if _, err := io.Copy(&crlfWriter{w: &b}, io.NewSectionReader(r, s.start, s.len())); err != nil {
		return fmt.Errorf("reading the signed part: %w", err)
	}
	p7.Content, p7.Hasher = []byte(b.String()), nil
	return nil
}

// spanHasher is the pkcs7.Hasher that hashes the signed part as it is
// read from the message, once per hash function.
type spanHasher struct {
	r    io.ReaderAt
	s    span
	sums map[crypto.Hash][]byte
}

// Hash ignores the (empty) content reader pkcs7 passes.
func (h *spanHasher) Hash(f crypto.Hash, _ io.Reader) ([]byte, error) {
	if sum, ok := h.sums[f]; ok {
		return sum, nil
	}
	sum, err := canonicalHash(h.r, h.s, f)
	if err != nil {
		return nil, err
	}
	h.sums[f] = sum
	return sum, nil
}

// signingTime is the signed attribute, else now: never the unsigned Date
// header, which would let a backdated envelope verify with an expired
// certificate.
func signingTime(p7 *pkcs7.PKCS7) time.Time {
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &t); err == nil && !t.IsZero() {
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
