// Package protocol formats protocol numbers (REQUIREMENTS P1).
//
// A format is a template with the placeholders {office}, {year} and
// {number}, the latter optionally zero-padded as {number:7}. Numbers are
// progressive per office and per year in Europe/clock.Rome time.
package protocol

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gatewayd/internal/clock"
)

// DefaultFormat is used when the configuration sets none.
const DefaultFormat = "INPS.{office}.{year}.{number:7}"

// Format renders protocol labels.
type Format struct {
	parts []part
}

type part struct {
	lit   string
	field string // "", "office", "year", "number"
	width int
}

// Parse checks a format: known placeholders only, and {number} exactly once.
func Parse(s string) (Format, error) {
	var f Format
	numbers := 0
	for len(s) > 0 {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			f.parts = append(f.parts, part{lit: s})
			break
		}
		if i > 0 {
			f.parts = append(f.parts, part{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return Format{}, fmt.Errorf("unclosed { in protocol format")
		}
		p, err := parsePlaceholder(s[i+1 : i+j])
		if err != nil {
			return Format{}, err
		}
		if p.field == "number" {
			numbers++
		}
		f.parts = append(f.parts, p)
		s = s[i+j+1:]
	}
	if numbers != 1 {
		return Format{}, fmt.Errorf("protocol format must hold {number} exactly once")
	}
	return f, nil
}

func parsePlaceholder(s string) (part, error) {
	name, width, hasWidth := strings.Cut(s, ":")
	p := part{field: name}
	switch name {
	case "office", "year", "number":
	default:
		return part{}, fmt.Errorf("unknown placeholder {%s} in protocol format (known: {office}, {year}, {number})", s)
	}
	if hasWidth {
		w, err := strconv.Atoi(width)
		if err != nil || w < 1 || w > 12 || name != "number" {
			return part{}, fmt.Errorf("invalid width in {%s}: only {number:N} with N from 1 to 12", s)
		}
		p.width = w
	}
	return p, nil
}

// Label renders the label of number n of the given office and year.
func (f Format) Label(office string, year, n int) string {
	var b strings.Builder
	for _, p := range f.parts {
		switch p.field {
		case "":
			b.WriteString(p.lit)
		case "office":
			b.WriteString(office)
		case "year":
			b.WriteString(strconv.Itoa(year))
		case "number":
			fmt.Fprintf(&b, "%0*d", p.width, n)
		}
	}
	return b.String()
}

// NumberWidth is the digits {number} is padded to (0: not padded).
func (f Format) NumberWidth() int {
	for _, p := range f.parts {
		if p.field == "number" {
			return p.width
		}
	}
	return 0
}

// Year returns the protocol year of an instant: its year in Europe/clock.Rome.
func Year(t time.Time) int {
	return t.In(clock.Rome).Year()
}

// labelRE finds protocol labels in text: any office's format with a
// 4-digit year and a number of at least 4 digits (INPS.FE.2026.0000042).
var labelRE = regexp.MustCompile(`[A-Z][A-Z0-9]*(?:\.[A-Z0-9]+)*\.\d{4}\.\d{4,}`)

// FindLabels returns the protocol labels a subject names.
func FindLabels(s string) []string { return labelRE.FindAllString(strings.ToUpper(s), -1) }
