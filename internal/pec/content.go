package pec

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// readContent reads daticert.xml and the header of postacert.eml from the
// signed part.
func (e *Envelope) readContent(signed []byte) {
	ent, err := message.Read(bytes.NewReader(signed))
	if err != nil && !message.IsUnknownCharset(err) {
		return
	}
	walk(ent, 0, func(p *message.Entity) {
		t, params, _ := p.Header.ContentType()
		_, dparams, _ := p.Header.ContentDisposition()
		name := strings.ToLower(dparams["filename"] + params["name"])
		switch {
		case strings.Contains(name, "daticert.xml") && e.Daticert == nil:
			b, _ := io.ReadAll(io.LimitReader(p.Body, 1<<20))
			e.Daticert, _ = ParseDaticert(b)
		case t == "message/rfc822" && strings.Contains(name, "postacert.eml") && e.Original.Len() == 0:
			h, err := textproto.ReadHeader(bufio.NewReader(p.Body))
			if err == nil || errors.Is(err, io.EOF) {
				e.Original = h
			}
		}
	})
}

func walk(e *message.Entity, depth int, f func(*message.Entity)) {
	if depth > 10 {
		return
	}
	mr := e.MultipartReader()
	if mr == nil {
		f(e)
		return
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			if !message.IsUnknownCharset(err) {
				return
			}
		}
		if p == nil {
			return
		}
		walk(p, depth+1, f)
	}
}
