package subject

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold returns s in lower case without accents ("Attività" → "attivita").
func fold(s string) string {
	return strings.ToLower(stripMarks(s))
}

// stripMarks removes the accents of s: the nonspacing marks of its
// canonical decomposition ("À" → "A"; "ſ" and "ı" have none and stay).
func stripMarks(s string) string {
	if isASCII(s) {
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalize maps the fullwidth forms and the typographic dashes, quotes
// and spaces of a subject to ASCII, as the person means them.
func normalize(s string) string {
	return typographic.Replace(strings.Map(narrow, s))
}

// narrow maps a fullwidth form (U+FF01–U+FF5E) to its ASCII character.
func narrow(r rune) rune {
	if r >= '\uff01' && r <= '\uff5e' {
		return r - 0xfee0
	}
	return r
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
	code       string // read as a code (see codeForm)
	latin      bool   // code holds only what was written, case and accents aside
	start, end int
}

// tokenize splits s into runs of letters and digits; a nonspacing mark
// (a decomposed accent) belongs to the run it follows.
func tokenize(s string) []token {
	var out []token
	start := -1
	for i, r := range s + " " {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r) || start >= 0 && unicode.Is(unicode.Mn, r)
		switch {
		case alnum && start < 0:
			start = i
		case !alnum && start >= 0:
			out = append(out, newToken(s, start, i))
			start = -1
		}
	}
	return out
}

// newToken makes the token of s[start:end].
func newToken(s string, start, end int) token {
	text := s[start:end]
	plain := stripMarks(text)
	code, latin := codeForm(plain)
	return token{text: text, key: strings.ToLower(plain), code: code, latin: latin, start: start, end: end}
}
