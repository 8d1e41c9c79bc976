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

func parseMediaType(v string) (string, map[string]string, error) {
	t, params, err := mime.ParseMediaType(v)
	return strings.ToLower(t), params, err
}

// signatureDER decodes the detached signature part (base64 DER).
func signatureDER(part []byte) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(part))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, fmt.Errorf("reading signature part header: %w", err)
	}
	t, _, _ := parseMediaType(h.Get("Content-Type"))
	if t != "application/pkcs7-signature" && t != "application/x-pkcs7-signature" {
		return nil, fmt.Errorf("second part is %s, not a PKCS #7 signature", t)
	}
	body, _ := io.ReadAll(br)
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
