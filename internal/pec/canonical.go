package pec

import (
	"crypto"
	"fmt"
	"io"
)

// canonicalHash hashes the bytes of s in their canonical form, bare LF
// turned into CRLF (the form S/MIME signs), streaming.
func canonicalHash(r io.ReaderAt, s span, f crypto.Hash) ([]byte, error) {
	if !f.Available() {
		return nil, fmt.Errorf("hash function %v not available", f)
	}
	h := f.New()
	w := &crlfWriter{w: h}
	if _, err := io.Copy(w, io.NewSectionReader(r, s.start, s.len())); err != nil {
		return nil, fmt.Errorf("reading the signed part: %w", err)
	}
	return h.Sum(nil), nil
}

// crlfWriter writes what it is given with every bare LF turned into CRLF,
// remembering across writes whether the last byte was a CR.
type crlfWriter struct {
	w      io.Writer
	lastCR bool
	buf    []byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	out := c.buf[:0]
	for _, b := range p {
		if b == '\n' && !c.lastCR {
			out = append(out, '\r')
		}
		out = append(out, b)
		c.lastCR = b == '\r'
	}
	c.buf = out[:0]
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
