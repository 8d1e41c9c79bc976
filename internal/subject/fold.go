package subject

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold returns s in lower case without accents ("Attività" → "attivita").
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// typographic maps the dashes and quotes mail clients put in subjects to
// their ASCII forms.
var typographic = strings.NewReplacer(
	"\u2010", "-", "\u2011", "-", "\u2012", "-", "\u2013", "-", "\u2014", "-", "\u2015", "-", "\u2212", "-",
	"\u00a0", " ", "\u2018", "'", "\u2019", "'", "\u201c", `"`, "\u201d", `"`, "\u00ab", `"`, "\u00bb", `"`,
)

// isSeparator reports the characters that separate a subject's fields.
func isSeparator(r rune) bool {
	return strings.ContainsRune("-|/:;,_", r)
}

// token is a run of letters and digits in the subject, with its bytes.
type token struct {
	text       string // as written
	key        string // folded
	start, end int
}

// tokenize splits s into runs of letters and digits.
func tokenize(s string) []token {
	var out []token
	start := -1
	for i, r := range s + " " {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case alnum && start < 0:
			start = i
		case !alnum && start >= 0:
			out = append(out, token{text: s[start:i], key: fold(s[start:i]), start: start, end: i})
			start = -1
		}
	}
	return out
}
