package pec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// maxHeader bounds the outer header section read from a message.
const maxHeader = 1 << 20

// maxSigPart bounds the signature part (real ones are a few KB: the
// provider's certificate chain and one signer).
const maxSigPart = 1 << 20

// span is a byte range [start, end) of the message.
type span struct{ start, end int64 }

func (s span) len() int64 { return s.end - s.start }

// layout is where the pieces of a multipart/signed message lie.
type layout struct {
	header textproto.Header
	signed span // the first part, as signed (before canonical CRLF)
	sig    span // the second part, the detached signature with its header
}

// readLayout reads the outer header and, for a multipart/signed message,
// finds its two parts by streaming the body. A message that is not
// multipart/signed returns its header and an error.
func readLayout(r io.ReaderAt, size int64) (layout, error) {
	cr := &countReader{r: io.NewSectionReader(r, 0, min(size, maxHeader))}
	br := bufio.NewReaderSize(cr, 64<<10)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return layout{}, fmt.Errorf("reading header: %w", err)
	}
	l := layout{header: h}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || !strings.EqualFold(ct, "multipart/signed") || params["boundary"] == "" {
		return l, errors.New("not multipart/signed")
	}
	bodyAt := cr.n - int64(br.Buffered())
	l.signed, l.sig, err = twoParts(io.NewSectionReader(r, bodyAt, size-bodyAt), bodyAt, params["boundary"])
	return l, err
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// twoParts streams a multipart body (at offset base of the message) and
// returns its first two parts. The line break before a delimiter belongs
// to the delimiter (RFC 2046 5.1.1); a part is never negative, however
// the delimiters follow each other.
func twoParts(body io.Reader, base int64, boundary string) (span, span, error) {
	delim := []byte("--" + boundary)
	br := bufio.NewReaderSize(body, 64<<10)
	var marks []span // per delimiter: where its line starts (with the break before it) and where its part begins
	pos, prevEOL, atStart := base, int64(0), true
	for len(marks) < 3 {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && atStart && isDelimiter(line, delim) {
			marks = append(marks, span{start: pos - prevEOL, end: pos + int64(len(line))})
		}
		pos += int64(len(line))
		switch {
		case len(marks) == 3: // the closing delimiter may end the message without a line break
		case errors.Is(err, bufio.ErrBufferFull):
			atStart, prevEOL = false, 0
			continue
		case err != nil:
			return span{}, span{}, errors.New("multipart/signed without its two parts and closing delimiter")
		}
		atStart, prevEOL = true, eolLen(line)
	}
	part := func(i int) span { return span{marks[i].end, max(marks[i].end, marks[i+1].start)} }
	return part(0), part(1), nil
}

// isDelimiter reports a line that is "--boundary" or "--boundary--",
// followed only by transport padding (RFC 2046 5.1.1).
func isDelimiter(line, delim []byte) bool {
	rest, ok := bytes.CutPrefix(line, delim)
	if !ok {
		return false
	}
	rest = bytes.TrimPrefix(rest, []byte("--"))
	return len(bytes.Trim(rest, " \t\r\n")) == 0
}

func eolLen(line []byte) int64 {
	if bytes.HasSuffix(line, []byte("\r\n")) {
		return 2
	}
	return 1
}
