package pec

import (
	"bufio"
	"errors"
	"io"
	"strings"

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
// signed part, streaming: other parts are skipped as they pass.
func (e *Envelope) readContent(r io.ReaderAt, s span) {
	src := &lineCap{r: bufio.NewReaderSize(io.NewSectionReader(r, s.start, s.len()), 64<<10)}
	ent, err := message.Read(src)
	if err != nil && !message.IsUnknownCharset(err) {
		return
	}
	seen := 0
	walk(ent, 0, &seen, func(p *message.Entity) {
		t, params, _ := p.Header.ContentType()
		_, dparams, _ := p.Header.ContentDisposition()
		name := strings.ToLower(dparams["filename"] + params["name"])
		switch {
		case strings.Contains(name, "daticert.xml") && e.Daticert == nil:
			b, _ := io.ReadAll(io.LimitReader(p.Body, maxDaticert))
			e.Daticert, _ = ParseDaticert(b)
		case t == "message/rfc822" && strings.Contains(name, "postacert.eml") && !e.HasOriginal:
			h, err := textproto.ReadHeader(bufio.NewReader(io.LimitReader(p.Body, maxHeader)))
			if err == nil || errors.Is(err, io.EOF) {
				e.Original, e.HasOriginal = h, true
			}
		}
	})
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
