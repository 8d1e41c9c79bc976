package triage

import (
	"bufio"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

func header(t *testing.T, s string) textproto.Header {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(s + "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestAuthResult: only the office's own authserv-id is read, the first
// of its fields, and only for the From domain.
func TestAuthResult(t *testing.T) {
	trusted := []string{"mx.inps.it"}
	for name, tc := range map[string]struct{ hdr, want string }{
		"dmarc pass":        {"Authentication-Results: mx.inps.it; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthPass},
		"dmarc fail":        {"Authentication-Results: mx.inps.it; dmarc=fail header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthFail},
		"aligned dkim":      {"Authentication-Results: mx.inps.it; dkim=pass header.d=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthPass},
		"unaligned dkim":    {"Authentication-Results: mx.inps.it; dkim=pass header.d=mailer.example\r\nFrom: info@odcec.fe.it\r\n", AuthNone},
		"dmarc other from":  {"Authentication-Results: mx.inps.it; dmarc=pass header.from=evil.example\r\nFrom: info@odcec.fe.it\r\n", AuthNone},
		"foreign authserv":  {"Authentication-Results: evil.example; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthNone},
		"look-alike id":     {"Authentication-Results: mx.inps.it.evil.example; dmarc=pass\r\nFrom: info@odcec.fe.it\r\n", AuthNone},
		"none at all":       {"From: info@odcec.fe.it\r\n", AuthNone},
		"first trusted one": {"Authentication-Results: mx.inps.it; dmarc=fail header.from=odcec.fe.it\r\nAuthentication-Results: mx.inps.it; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthFail},
		"case of the id":    {"Authentication-Results: MX.INPS.IT; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthPass},
		// A semicolon in a comment or a quoted string never splits a result,
		// nor makes the first field unreadable and the next (forged) one read.
		"opendkim comment": {"Authentication-Results: mx.inps.it; dkim=pass (2048-bit key; unprotected) header.d=evil.example; dmarc=fail header.from=odcec.fe.it\r\n" +
			"Authentication-Results: mx.inps.it; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthFail},
		"quoted mail from":   {"Authentication-Results: mx.inps.it; spf=pass smtp.mailfrom=\"x;dmarc=pass header.from=odcec.fe.it;a=b\"@evil.example; dmarc=fail header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthFail},
		"comment injection":  {"Authentication-Results: mx.inps.it; spf=pass (sender x;dmarc=pass header.from=odcec.fe.it) smtp.mailfrom=evil.example; dmarc=fail header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthFail},
		"arc beside":         {"Authentication-Results: mx.inps.it; arc=pass header.oldest-pass=0; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthPass},
		"genuine opendkim":   {"Authentication-Results: mx.inps.it; dkim=pass (2048-bit key; unprotected) header.d=odcec.fe.it header.i=@odcec.fe.it; dmarc=pass (p=none dis=none) header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n", AuthPass},
		"dmarc without from": {"Authentication-Results: mx.inps.it; dmarc=pass\r\nFrom: info@odcec.fe.it\r\n", AuthNone},
	} {
		if got, detail := authResult(header(t, tc.hdr), trusted); got != tc.want {
			t.Errorf("%s: authResult = %s (%s), want %s", name, got, detail, tc.want)
		}
	}
	if got, _ := authResult(header(t, "Authentication-Results: mx.inps.it; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n"), nil); got != AuthNone {
		t.Errorf("no trusted authserv-id: %s, want none", got)
	}
}

// TestReplyAddress: a Reply-To in another domain is honoured only for
// an authenticated sender.
func TestReplyAddress(t *testing.T) {
	h := header(t, "From: studio@bianchi.it\r\nReply-To: raccolta@altrove.example\r\n")
	if got := replyAddress(h, false); got != "studio@bianchi.it" {
		t.Errorf("unauthenticated: %s", got)
	}
	if got := replyAddress(h, true); got != "raccolta@altrove.example" {
		t.Errorf("authenticated: %s", got)
	}
	h = header(t, "From: studio@bianchi.it\r\nReply-To: segreteria@bianchi.it\r\n")
	if got := replyAddress(h, false); got != "segreteria@bianchi.it" {
		t.Errorf("same domain: %s", got)
	}
}

// TestAutoSubmitted: a comment after "no" keeps a mail human.
func TestAutoSubmitted(t *testing.T) {
	for v, want := range map[string]string{"no": "no", "no (scritto a mano)": "no", " No ; x=y": "no",
		"(commento) no": "no", "auto-replied": "auto-replied", "auto-generated (x)": "auto-generated"} {
		if got := autoSubmitted(v); got != want {
			t.Errorf("autoSubmitted(%q) = %q, want %q", v, got, want)
		}
	}
}
