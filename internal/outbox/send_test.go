package outbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/store"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func account(sink *smtpsink.Sink, mode string, pool *x509.CertPool, user, pass string) *config.SMTP {
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	return &config.SMTP{Server: config.Server{Host: host, Port: p, TLS: mode, User: user, Password: pass, RootCAs: pool},
		From: "GestioneCredito.Ferrara@inps.it"}
}

var item = store.OutboxItem{To: "studio@example.it", Raw: []byte("Subject: prova\r\n\r\ntesto\r\n")}

// TestSend_TLSAndAuth: implicit TLS and STARTTLS with AUTH PLAIN deliver;
// an untrusted certificate or wrong password is refused, the latter for good.
func TestSend_TLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	tcfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, implicit := range []bool{true, false} {
		sink, err := smtpsink.StartWith(smtpsink.Options{TLS: tcfg, Implicit: implicit, User: "gc", Password: "segreta"})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		mode := config.TLSStartTLS
		if implicit {
			mode = config.TLSImplicit
		}
		ctx := context.Background()
		if quit, err := send(ctx, account(sink, mode, pool, "gc", "segreta"), item); err != nil {
			t.Errorf("%s: send = %v", mode, err)
		} else {
			quit()
		}
		if n := len(sink.Messages()); n != 1 {
			t.Errorf("%s: %d messages received, want 1", mode, n)
		}
		if _, err := send(ctx, account(sink, mode, nil, "gc", "segreta"), item); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s with an untrusted certificate: %v, want a certificate error", mode, err)
		}
		if _, err := send(ctx, account(sink, mode, pool, "gc", "sbagliata"), item); err == nil || !Permanent(err) {
			t.Errorf("%s with a wrong password: %v, want a permanent error", mode, err)
		}
	}
}

// TestSend_noAuthWithoutTLS: credentials are never sent in clear.
func TestSend_noAuthWithoutTLS(t *testing.T) {
	sink, err := smtpsink.StartWith(smtpsink.Options{User: "gc", Password: "segreta"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	_, err = send(context.Background(), account(sink, config.TLSPlain, nil, "gc", "segreta"), item)
	if err == nil || !strings.Contains(err.Error(), "refusing AUTH without TLS") {
		t.Errorf("send = %v, want a refusal to AUTH in clear", err)
	}
}
