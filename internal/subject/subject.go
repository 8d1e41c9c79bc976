package subject

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Gestione is one gestione previdenziale and the words that name it.
type Gestione struct {
	Name     string   // canonical, e.g. "artigiani"
	Synonyms []string // e.g. "artigiano", "gestione artigiani"
}

// Vocabulary is the list of gestioni an office recognises.
type Vocabulary []Gestione

// Result is what Parse found in a subject.
type Result struct {
	CodiceFiscale string // the valid value found, upper case
	Kind          string // Person or Company
	// Invalid is a value written as a codice fiscale that fails its check,
	// with the reason; set only when no valid one is found.
	Invalid       string
	InvalidReason string
	Gestione      string // canonical name
	Summary       string // what remains, trimmed of separators
}

// Parse reads a subject (already RFC 2047 decoded).
func Parse(subject string, voc Vocabulary) Result {
	s := stripPrefixes(normalize(bounded(subject)))
	toks := tokenize(s)
	var r Result
	var cut []span
	if c, ok := findCodiceFiscale(s, toks); ok {
		cut = append(cut, c.span)
		if c.err == nil {
			r.CodiceFiscale, r.Kind = c.value, c.kind
		} else {
			r.Invalid, r.InvalidReason, r.Kind = c.value, c.err.Error(), c.kind
		}
	}
	if g, sp, ok := findGestione(toks, voc, cut); ok {
		r.Gestione = g
		cut = append(cut, sp)
	}
	r.Summary = summary(s, cut)
	return r
}

// replyPrefix matches the prefixes mail clients and PEC providers add.
var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|r|fw|fwd|i|inoltro|rif|posta certificata|anomalia messaggio)\s*(\[\d+\])?\s*:\s*`)

func stripPrefixes(s string) string {
	for {
		t := replyPrefix.ReplaceAllString(s, "")
		if t == s {
			return strings.TrimSpace(s)
		}
		s = t
	}
}

// span is a byte range of the subject to leave out of the summary.
type span struct{ start, end int }

func (sp span) overlaps(o span) bool { return sp.start < o.end && o.start < sp.end }

// summary removes the spans, then trims separators at both ends and
// squeezes the separators left where a field was removed.
func summary(s string, cut []span) string {
	b := []byte(s)
	for _, c := range cut {
		for i := c.start; i < c.end; i++ {
			b[i] = ' '
		}
	}
	out := emptyPairs.ReplaceAllString(string(b), " ")
	out = squeeze.ReplaceAllString(out, " - ")
	out = strings.Join(strings.Fields(out), " ")
	return strings.TrimFunc(out, func(r rune) bool { return r == ' ' || r == '.' || isSeparator(r) })
}

// emptyPairs matches quotes and brackets left empty by a removed field.
var emptyPairs = regexp.MustCompile(`"\s*"|'\s*'|\(\s*\)|\[\s*\]`)

// squeeze matches two or more separators in a row, with any spaces.
var squeeze = regexp.MustCompile(`\s*[-|/:;,_]\s*([-|/:;,_.]\s*)+`)

// SummaryLength counts the letters and digits of a summary.
func SummaryLength(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// Mentions returns the first of phrases found in text as whole words,
// regardless of case, accents and punctuation.
func Mentions(text string, phrases []string) (string, bool) {
	toks := tokenize(normalize(bounded(text)))
	for _, p := range phrases {
		words := tokenize(p)
		if len(words) == 0 {
			continue
		}
		for i := 0; i+len(words) <= len(toks); i++ {
			if wordsAt(toks, i, words) {
				return p, true
			}
		}
	}
	return "", false
}

// maxInput bounds what Parse and Mentions read, in bytes.
const maxInput = 4096

// bounded cuts s to maxInput bytes, on a character boundary.
func bounded(s string) string {
	if len(s) <= maxInput {
		return s
	}
	i := maxInput
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
