// Package pectest builds PEC envelopes and receipts signed by a throwaway
// test CA (root → intermediate → provider), for gatewayd's own tests.
package pectest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"gatewayd/internal/pec"
)

// CA is a test PEC provider: its root (the trust anchor), intermediate and
// signing certificate.
type CA struct {
	Domain       string // the provider's domain, e.g. pec.test.it
	Root         *x509.Certificate
	Intermediate *x509.Certificate
	Leaf         *x509.Certificate
	leafKey      *ecdsa.PrivateKey
}

// Options change the provider's signing certificate.
type Options struct {
	NoPolicy    bool          // without the PEC policy
	EmailDomain string        // another domain in the certificate's address
	Lifetime    time.Duration // from an hour ago (default: a year)
}

// NewCA makes a provider for domain.
func NewCA(domain string, o Options) *CA {
	rootKey, root := selfSigned("Test PEC Root CA")
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	inter := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Test PEC Intermediate CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, &interKey.PublicKey, root, rootKey, 2*365*24*time.Hour)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	emailDomain := domain
	if o.EmailDomain != "" {
		emailDomain = o.EmailDomain
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "Posta Certificata " + domain},
		EmailAddresses: []string{"posta-certificata@" + emailDomain},
		KeyUsage:       x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	if !o.NoPolicy {
		oid, _ := x509.OIDFromInts([]uint64{1, 3, 76, 16, 3, 1, 1})
		tmpl.Policies = []x509.OID{oid}
		tmpl.PolicyIdentifiers = []asn1.ObjectIdentifier{pec.PolicyPEC}
	}
	life := o.Lifetime
	if life == 0 {
		life = 365 * 24 * time.Hour
	}
	leaf := issue(tmpl, &leafKey.PublicKey, inter, interKey, life)
	return &CA{Domain: domain, Root: root, Intermediate: inter, Leaf: leaf, leafKey: leafKey}
}

func selfSigned(cn string) (*ecdsa.PrivateKey, *x509.Certificate) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	return key, issue(tmpl, &key.PublicKey, nil, key, 10*365*24*time.Hour)
}

var serial int64

// issue signs tmpl with the parent (nil: self-signed), valid from an hour ago.
func issue(tmpl *x509.Certificate, pub *ecdsa.PublicKey, parent *x509.Certificate, key *ecdsa.PrivateKey, life time.Duration) *x509.Certificate {
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(life)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		panic(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// RootPEM returns the root certificate as PEM (a trust anchor file).
func (ca *CA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw})
}

// Message is what an envelope carries.
type Message struct {
	Kind      string // posta-certificata, errore, or a receipt type (accettazione, …)
	Sender    string // the original sender (daticert mittente)
	To        string
	Subject   string
	Body      string
	MessageID string    // the envelope's (default: generated)
	RefID     string    // X-Riferimento-Message-ID (receipts; default: the original's)
	Date      time.Time // default: now
	Tamper    bool      // change a byte of the signed content after signing
	NoSig     bool      // a look-alike: PEC headers, no signature part

	// OuterKind relabels the outer X-Trasporto or X-Ricevuta header (the
	// signed daticert keeps Kind): "posta-certificata" or a receipt kind.
	OuterKind string
	// OuterExtra is added verbatim to the outer header (CRLF-terminated lines).
	OuterExtra string
	// Recipients are daticert's destinatari (default: To).
	Recipients []string
	// ErroreEsteso is daticert's errore-esteso (failure notices).
	ErroreEsteso string
	// InnerExtra is added verbatim to the header of postacert.eml.
	InnerExtra string
	// AnomalyDaticert adds a daticert.xml to an anomaly envelope ("errore"),
	// which providers often leave out.
	AnomalyDaticert bool
	// Latin1 writes daticert.xml in ISO-8859-1, as some providers do.
	Latin1 bool
	// Attachment adds a PDF attached to the original message.
	Attachment bool
}

var receiptSubjects = map[string]string{
	"accettazione": "ACCETTAZIONE", "non-accettazione": "AVVISO DI NON ACCETTAZIONE", "presa-in-carico": "PRESA IN CARICO",
	"avvenuta-consegna": "CONSEGNA", "errore-consegna": "AVVISO DI MANCATA CONSEGNA",
	"preavviso-errore-consegna": "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO", "rilevazione-virus": "PROBLEMA DI SICUREZZA",
	"posta-certificata": "POSTA CERTIFICATA", "errore": "ANOMALIA MESSAGGIO",
}

// Envelope builds a signed PEC transport envelope or receipt.
func (ca *CA) Envelope(m Message) []byte {
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	if m.MessageID == "" {
		m.MessageID = fmt.Sprintf("opec.%d.test@%s", time.Now().UnixNano(), ca.Domain)
	}
	original := originalMessage(m)
	signed := signedPart(m, original)
	var sig []byte
	if !m.NoSig {
		sig = ca.sign(signed)
	}
	if m.Tamper {
		signed = bytes.Replace(signed, []byte(m.Body), []byte(strings.ToUpper(m.Body)), 1)
	}
	return ca.wrap(m, signed, sig)
}

func originalMessage(m Message) string {
	if m.Attachment {
		return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <orig-%s>\r\n%sMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=\"orig-b\"\r\n\r\n--orig-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"+
			"--orig-b\r\nContent-Type: application/pdf; name=\"quietanza.pdf\"\r\nContent-Disposition: attachment; filename=\"quietanza.pdf\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--orig-b--\r\n", m.Sender, m.To, m.Subject, m.Date.Format(time.RFC1123Z),
			m.MessageID, m.InnerExtra, m.Body)
	}
	return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <orig-%s>\r\n%sMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", m.Sender, m.To, m.Subject, m.Date.Format(time.RFC1123Z), m.MessageID,
		m.InnerExtra, m.Body)
}

func daticert(m Message) string {
	tipo, errore, esteso := m.Kind, "nessuno", ""
	if m.ErroreEsteso != "" {
		errore, esteso = "no-dest", "\n        <errore-esteso>"+xmlEscape(m.ErroreEsteso)+"</errore-esteso>"
	}
	rcpts := m.Recipients
	if rcpts == nil {
		rcpts = []string{m.To}
	}
	var dest strings.Builder
	for i, r := range rcpts {
		if i > 0 {
			dest.WriteString("\n        ")
		}
		fmt.Fprintf(&dest, `<destinatari tipo="certificato">%s</destinatari>`, xmlEscape(r))
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="%s" errore="%s">
    <intestazione>
        <mittente>%s</mittente>
        %s
        <risposte>%s</risposte>
        <oggetto>%s</oggetto>
    </intestazione>
    <dati>
        <gestore-emittente>TEST PEC S.p.A.</gestore-emittente>
        <data zona="+0100"><giorno>%s</giorno><ora>%s</ora></data>
        <identificativo>%s</identificativo>
        <msgid>&lt;%s&gt;</msgid>%s
    </dati>
</postacert>
`, tipo, errore, m.Sender, dest.String(), m.Sender, xmlEscape(m.Subject), m.Date.Format("02/01/2006"), m.Date.Format("15:04:05"),
		m.MessageID, refOf(m), esteso)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// signedPart is the multipart/mixed the provider signs: its text, daticert.xml
// and, for a transport envelope, the original message.
func signedPart(m Message, original string) []byte {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"mixed-b\"\r\n\r\n--mixed-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "Messaggio di tipo %s relativo a %q.\r\n%s\r\n", m.Kind, m.Subject, m.Body)
	if m.Kind != "errore" || m.AnomalyDaticert {
		b.WriteString("--mixed-b\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\nContent-Disposition: inline; filename=\"daticert.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		x := daticert(m)
		if m.Latin1 {
			x = latin1(strings.Replace(x, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1))
		}
		b.WriteString(wrap76(base64.StdEncoding.EncodeToString([]byte(x))))
	}
	if m.Kind == "posta-certificata" || m.Kind == "errore" {
		b.WriteString("--mixed-b\r\nContent-Type: message/rfc822; name=\"postacert.eml\"\r\nContent-Disposition: inline; filename=\"postacert.eml\"\r\n\r\n")
		b.WriteString(original)
	}
	b.WriteString("--mixed-b--\r\n")
	return []byte(b.String())
}

// latin1 encodes s in ISO-8859-1 (characters beyond it become '?').
func latin1(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return string(out)
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}

func (ca *CA) sign(content []byte) []byte {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		panic(err)
	}
	if err := sd.AddSignerChain(ca.Leaf, ca.leafKey, []*x509.Certificate{ca.Intermediate}, pkcs7.SignerInfoConfig{}); err != nil {
		panic(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		panic(err)
	}
	return der
}

// wrap puts the signed part and the signature in the envelope.
func (ca *CA) wrap(m Message, signed, sig []byte) []byte {
	var b strings.Builder
	subj := receiptSubjects[m.Kind] + ": " + m.Subject
	from := fmt.Sprintf("\"Per conto di: %s\" <posta-certificata@%s>", m.Sender, ca.Domain)
	if _, receipt := receiptKinds[m.Kind]; receipt {
		from = "posta-certificata@" + ca.Domain
	}
	fmt.Fprintf(&b, "Return-Path: <posta-certificata@%s>\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
		ca.Domain, from, m.To, subj, m.Date.Format(time.RFC1123Z), m.MessageID)
	outer := m.Kind
	if m.OuterKind != "" {
		outer = m.OuterKind
	}
	if _, receipt := receiptKinds[outer]; receipt {
		fmt.Fprintf(&b, "X-Ricevuta: %s\r\nX-Riferimento-Message-ID: <%s>\r\n", outer, refOf(m))
	} else {
		fmt.Fprintf(&b, "X-Trasporto: %s\r\nReply-To: %s\r\nX-Riferimento-Message-ID: <orig-%s>\r\n", outer, m.Sender, m.MessageID)
	}
	b.WriteString(m.OuterExtra)
	if sig == nil {
		b.WriteString("MIME-Version: 1.0\r\n")
		b.Write(signed)
		return []byte(b.String())
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; micalg=\"sha-256\"; boundary=\"signed-b\"\r\n\r\n")
	b.WriteString("This is an S/MIME signed message\r\n\r\n--signed-b\r\n")
	b.Write(signed)
	b.WriteString("\r\n--signed-b\r\nContent-Type: application/x-pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	b.WriteString(wrap76(base64.StdEncoding.EncodeToString(sig)))
	b.WriteString("\r\n--signed-b--\r\n")
	return []byte(b.String())
}

// refOf is the Message-ID a receipt refers to (default: the original's).
func refOf(m Message) string {
	if m.RefID != "" {
		return m.RefID
	}
	return "orig-" + m.MessageID
}

var receiptKinds = map[string]struct{}{"accettazione": {}, "non-accettazione": {}, "presa-in-carico": {},
	"avvenuta-consegna": {}, "errore-consegna": {}, "preavviso-errore-consegna": {}, "rilevazione-virus": {}}

// ReceiptKinds lists the X-Ricevuta values.
func ReceiptKinds() []string {
	return []string{"accettazione", "non-accettazione", "presa-in-carico", "avvenuta-consegna", "errore-consegna",
		"preavviso-errore-consegna", "rilevazione-virus"}
}
