package mailparse

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkInspectAttachment inspects a 1 MB mail with a base64
// attachment, the bytes most of an intake's volume is made of.
func BenchmarkInspectAttachment(b *testing.B) {
	var m strings.Builder
	m.WriteString("From: a@example.it\r\nTo: b@example.it\r\nSubject: x\r\nMessage-ID: <x@y>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nciao\r\n" +
		"--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 57)
	for m.Len() < 1<<20 {
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		m.WriteString(base64.StdEncoding.EncodeToString(raw) + "\r\n")
	}
	m.WriteString("--b--\r\n")
	msg := []byte(m.String())
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, p := Inspect(bytes.NewReader(msg)); p != nil {
			b.Fatal(p)
		}
	}
}
