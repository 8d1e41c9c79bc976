// Package logging builds the daemon's log/slog logger: text or JSON, times
// in the office's time zone (Europe/Rome) with their offset, and — at info
// level and above — codici fiscali and e-mail local parts masked in the
// message and every attribute (REQUIREMENTS: no personal data at info).
// Debug records are written as they are.
package logging

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"time"

	"gatewayd/internal/clock"
)

// New returns a logger writing to w at level ("debug", "info", "warn",
// "error") in format ("text" or "json").
func New(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 && a.Value.Kind() == slog.KindTime {
			a.Value = slog.StringValue(a.Value.Time().In(clock.Rome).Format("2006-01-02T15:04:05.000Z07:00"))
		}
		return a
	}}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(&masking{next: h})
}

// masking masks personal data in records at info level and above.
type masking struct {
	next slog.Handler
}

func (m *masking) Enabled(ctx context.Context, l slog.Level) bool { return m.next.Enabled(ctx, l) }

func (m *masking) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return m.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.next.Handle(ctx, out)
}

func (m *masking) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a) // attributes bound once are masked whatever the level
	}
	return &masking{next: m.next.WithAttrs(masked)}
}

func (m *masking) WithGroup(name string) slog.Handler { return &masking{next: m.next.WithGroup(name)} }

// keep are attributes that name no person: identifiers the operator needs
// to find a message.
var keep = map[string]bool{"message_id": true, "protocol": true, "mailbox": true}

func maskAttr(a slog.Attr) slog.Attr {
	if keep[a.Key] {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Mask(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		masked := make([]any, len(attrs))
		for i, g := range attrs {
			masked[i] = maskAttr(g)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Mask(x.Error()))
		case []string:
			out := make([]string, len(x))
			for i, s := range x {
				out[i] = Mask(s)
			}
			return slog.Any(a.Key, out)
		case time.Duration, time.Time:
			return a
		}
	}
	return a
}

var (
	// cfRE finds personal codici fiscali (16 characters, omocodia letters allowed).
	// A code stands between anything but letters and digits ("_" and
	// punctuation included).
	cfRE = regexp.MustCompile(`(?i)(^|[^A-Z0-9])([A-Z]{6})([0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV])([0-9LMNPQRSTUV]{2}[A-Z])([^A-Z0-9]|$)`)
	// localRE finds the local part of an e-mail address.
	localRE = regexp.MustCompile(`([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)`)
)

// Mask hides the middle of each codice fiscale (RSSMRA*******62S: the
// surname and name letters and the check stay, the birth data go) and
// every e-mail address's local part but its first letter (m***@example.it).
func Mask(s string) string {
	for i := 0; i < 2; i++ { // twice: adjacent codes share the character between them
		s = cfRE.ReplaceAllString(s, "${1}${2}*******${4}${5}")
	}
	return localRE.ReplaceAllStringFunc(s, func(addr string) string {
		m := localRE.FindStringSubmatch(addr)
		return m[1][:1] + "***@" + m[2]
	})
}
