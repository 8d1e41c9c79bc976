package pec

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"gatewayd/internal/mailparse"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// Bounds on what is read of the signed content: daticert.xml, the header
// of postacert.eml, one line, how deep parts nest and how many there are.
const (
	maxDaticert  = 1 << 20
	maxLine      = 1 << 20
	maxDepth     = 10
	maxPartsSeen = 1000
)

// readContent reads daticert.xml and the header of postacert.eml from the
// signed part, streaming: other parts are skipped as they pass. Both must
// be direct parts of the signed multipart, daticert before postacert, once
// each, as providers write them; anything else (a second daticert, one
// after postacert — where an original whose lines collide with the
// provider's boundary would put one) makes the content ambiguous.
func (e *Envelope) readContent(r io.ReaderAt, s span) {
	src := &lineCap{r: bufio.NewReaderSize(io.NewSectionReader(r, s.start, s.len()), 64<<10)}
	ent, err := message.Read(src)
	if err != nil && !message.IsUnknownCharset(err) {
		return
	}
	mr := ent.MultipartReader()
	if mr == nil {
		return
	}
	for n := 0; n < maxPartsSeen; n++ {
		p, err := mr.NextPart()
		if err != nil && !message.IsUnknownCharset(err) || p == nil {
			return
		}
		e.readPart(p)
	}
}

// readPart reads one direct part of the signed content.
func (e *Envelope) readPart(p *message.Entity) {
	t, params, _ := p.Header.ContentType()
	_, dparams, _ := p.Header.ContentDisposition()
	name := strings.ToLower(dparams["filename"] + params["name"])
	switch {
	case strings.Contains(name, "daticert.xml"):
		if e.daticertSeen || e.HasOriginal {
			e.Ambiguous = true
			return
		}
		e.daticertSeen = true
		b, _ := io.ReadAll(io.LimitReader(p.Body, maxDaticert))
		if d, err := ParseDaticert(b); err == nil {
			e.Daticert = d
		}
	case t == "message/rfc822" && strings.Contains(name, "postacert.eml"):
		if e.HasOriginal {
			e.Ambiguous = true
			return
		}
		lr := &io.LimitedReader{R: &lineCap{r: bufio.NewReader(p.Body)}, N: maxHeader}
		br := bufio.NewReader(lr)
		h, err := textproto.ReadHeader(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return
		}
		lr.N = 1 << 62 // the header was bounded; the body streams
		e.Original, e.HasOriginal = h, true
		if inner, err := message.New(message.Header{Header: h}, br); err == nil || message.IsUnknownCharset(err) {
			seen := 0
			walk(inner, 0, &seen, func(leaf *message.Entity) {
				if mailparse.IsAttachment(leaf.Header.Header) {
					e.OriginalAttachments++
				}
			})
		}
	}
}

// walk calls f on every leaf part, at most maxDepth deep and maxPartsSeen
// in all.
func walk(e *message.Entity, depth int, seen *int, f func(*message.Entity)) {
	if depth > maxDepth || *seen >= maxPartsSeen {
		return
	}
	*seen++
	mr := e.MultipartReader()
	if mr == nil {
		f(e)
		return
	}
	for {
		p, err := mr.NextPart()
		if err != nil && !message.IsUnknownCharset(err) {
			return
		}
		if p == nil {
			return
		}
		walk(p, depth+1, seen, f)
	}
}

// lineCap fails once a line is longer than maxLine, so that no header
// the MIME reader collects can grow without bound.
type lineCap struct {
	r    *bufio.Reader
	line int
}

var errLineTooLong = errors.New("line over 1 MiB in the signed part")

func (l *lineCap) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			l.line = 0
			continue
		}
		if l.line++; l.line > maxLine {
			return i, errLineTooLong
		}
	}
	return n, err
}
