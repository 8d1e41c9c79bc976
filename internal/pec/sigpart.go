package pec

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// signatureDER reads the detached signature part (its header and base64
// DER), at most maxSigPart bytes.
func signatureDER(r io.ReaderAt, s span) ([]byte, error) {
	if s.len() > maxSigPart {
		return nil, fmt.Errorf("signature part of %d bytes, over %d", s.len(), maxSigPart)
	}
	br := bufio.NewReader(io.NewSectionReader(r, s.start, s.len()))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, fmt.Errorf("reading signature part header: %w", err)
	}
	t, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if t = strings.ToLower(t); t != "application/pkcs7-signature" && t != "application/x-pkcs7-signature" {
		return nil, fmt.Errorf("second part is %q, not a PKCS #7 signature", t)
	}
	body, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("reading signature: %w", err)
	}
	if !strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "base64") {
		return body, nil
	}
	clean := bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, body)
	der := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(der, clean)
	if err != nil {
		return nil, fmt.Errorf("decoding signature: %w", err)
	}
	return der[:n], nil
}
