package outbox

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"

	"gatewayd/internal/config"
	"gatewayd/internal/smtpsink"
)

// TestProbe: STARTTLS and AUTH PLAIN log in and nothing is sent; a wrong
// password fails; a user on a plain connection is refused before AUTH.
func TestProbe(t *testing.T) {
	cert, pool := selfSigned(t)
	sink, err := smtpsink.StartWith(smtpsink.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, User: "gc", Password: "segreta"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if enc, err := Probe(context.Background(), account(sink, config.TLSStartTLS, pool, "gc", "segreta")); err != nil || !enc {
		t.Errorf("Probe(starttls, right password) = %v, %v; want encrypted, nil", enc, err)
	}
	if _, err := Probe(context.Background(), account(sink, config.TLSStartTLS, pool, "gc", "sbagliata")); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("Probe(wrong password) = %v, want a 535", err)
	}
	if _, err := Probe(context.Background(), account(sink, config.TLSPlain, nil, "gc", "segreta")); err == nil || !strings.Contains(err.Error(), "refusing AUTH without TLS") {
		t.Errorf("Probe(plain with a user) = %v, want AUTH refused", err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("the sink received %d messages, want none", n)
	}
}
