package subject

import (
	"strings"
	"unicode"
)

// candidate is a value written where a codice fiscale is expected.
type candidate struct {
	value, kind string
	err         error
	span        span
}

// prefixes name a codice fiscale or partita IVA before its value.
var prefixes = [][]string{
	{"codice", "fiscale"}, {"cod", "fisc"}, {"cod", "fiscale"}, {"c", "f"}, {"cf"}, {"codfisc"},
	{"partita", "iva"}, {"part", "iva"}, {"p", "iva"}, {"piva"}, {"p", "i"}, {"pi"},
}

// findCodiceFiscale returns the first valid codice fiscale of the
// subject; failing that, the first value that looks like one (a 16-letter
// code's layout, 11 digits, or anything alphanumeric after a CF prefix).
func findCodiceFiscale(toks []token) (candidate, bool) {
	var invalid *candidate
	for i := 0; i < len(toks); i++ {
		start, j := toks[i].start, i
		if n := prefixAt(toks, i); n > 0 && i+n < len(toks) {
			j = i + n
		} else if n > 0 {
			continue
		}
		c, ok := asCandidate(toks[j], j > i)
		if !ok {
			continue
		}
		c.span = span{start, toks[j].end}
		if c.err == nil {
			return c, true
		}
		if invalid == nil {
			invalid = &c
		}
		i = j
	}
	if invalid != nil {
		return *invalid, true
	}
	return candidate{}, false
}

// prefixAt returns how many tokens from i spell a CF prefix (0: none).
func prefixAt(toks []token, i int) int {
	for _, p := range prefixes {
		if i+len(p) > len(toks) {
			continue
		}
		match := true
		for k, w := range p {
			if toks[i+k].key != w {
				match = false
				break
			}
		}
		if match {
			return len(p)
		}
	}
	return 0
}

// asCandidate decides whether a token is written as a codice fiscale;
// after a prefix any alphanumeric value with a digit counts.
func asCandidate(t token, afterPrefix bool) (candidate, bool) {
	v := strings.ToUpper(t.text)
	if len(v) == 13 && strings.HasPrefix(v, "IT") && allDigits(v[2:]) {
		v = v[2:] // a partita IVA written with its country code
	}
	switch {
	case len(v) == 11 && allDigits(v):
		return candidate{value: v, kind: Company, err: CheckCompany(v)}, true
	case len(v) == 16 && personRE.MatchString(v):
		return candidate{value: v, kind: Person, err: CheckPerson(v)}, true
	case len(v) == 16 && hasDigit(v) && hasLetter(v) && isASCIIAlnum(v):
		return candidate{value: v, kind: Person, err: ErrFormat}, true
	case afterPrefix && hasDigit(v) && len(v) >= 5 && len(v) <= 20 && isASCIIAlnum(v):
		kind := Person
		if allDigits(v) {
			kind = Company
		}
		return candidate{value: v, kind: kind, err: ErrFormat}, true
	}
	return candidate{}, false
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func hasDigit(s string) bool  { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }
func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

func isASCIIAlnum(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// findGestione finds the first (then longest) synonym of a gestione in the
// tokens outside the spans already taken.
func findGestione(toks []token, voc Vocabulary, taken []span) (string, span, bool) {
	best, bestLen, bestAt := "", 0, len(toks)
	var bestSpan span
	for _, g := range voc {
		for _, syn := range append([]string{g.Name}, g.Synonyms...) {
			words := tokenize(syn)
			for i := 0; i+len(words) <= len(toks) && i <= bestAt; i++ {
				if !wordsAt(toks, i, words) {
					continue
				}
				sp := span{toks[i].start, toks[i+len(words)-1].end}
				if overlapsAny(sp, taken) {
					continue
				}
				if i < bestAt || len(words) > bestLen {
					best, bestLen, bestAt, bestSpan = g.Name, len(words), i, sp
				}
				break
			}
		}
	}
	return best, bestSpan, best != ""
}

func wordsAt(toks []token, i int, words []token) bool {
	for k, w := range words {
		if toks[i+k].key != w.key {
			return false
		}
	}
	return true
}

func overlapsAny(sp span, spans []span) bool {
	for _, o := range spans {
		if sp.overlaps(o) {
			return true
		}
	}
	return false
}
