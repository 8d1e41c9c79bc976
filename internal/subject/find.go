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

// findCodiceFiscale returns the first valid codice fiscale of the tokens
// of s; failing that, the first value that looks like one (a 16-letter
// code's layout, 11 digits, anything alphanumeric after a CF prefix, or a
// code broken up by spaces or invisible characters).
func findCodiceFiscale(s string, toks []token) (candidate, bool) {
	var invalid *candidate
	for i := 0; i < len(toks); i++ {
		start, j := toks[i].start, i
		if n := prefixAt(toks, i); n > 0 && i+n < len(toks) {
			j = i + n
		} else if n > 0 {
			continue
		}
		c, k, ok := candidateAt(s, toks, j, j > i)
		if !ok {
			continue
		}
		c.span = span{start, toks[k].end}
		if c.err == nil {
			return c, true
		}
		if invalid == nil {
			invalid = &c
		}
		i = k
	}
	if invalid != nil {
		return *invalid, true
	}
	return candidate{}, false
}

// candidateAt reads a codice fiscale at token j: the token alone when it
// is valid, else a code broken across tokens j…k, else the token alone
// when it looks like one. It returns the last token taken.
func candidateAt(s string, toks []token, j int, afterPrefix bool) (candidate, int, bool) {
	c, ok := asCandidate(toks[j], afterPrefix)
	if ok && c.err == nil {
		return c, j, true
	}
	if b, k, found := brokenAt(s, toks, j, afterPrefix); found {
		return b, k, true
	}
	return c, j, ok
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
// after a prefix any alphanumeric value with a digit counts. A token in
// that shape with a character other than a Latin letter or an ASCII digit
// is a candidate with ErrCharacter, its value shown as written.
func asCandidate(t token, afterPrefix bool) (candidate, bool) {
	c, ok := shapeCandidate(t.code, afterPrefix)
	if ok && !t.latin {
		c.value, c.err = shown(t.text), ErrCharacter
	}
	return c, ok
}

// shapeCandidate decides whether v (ASCII letters, upper case, and
// digits) is written as a codice fiscale, and checks it.
func shapeCandidate(v string, afterPrefix bool) (candidate, bool) {
	if len(v) == 13 && strings.HasPrefix(v, "IT") && allDigits(v[2:]) {
		v = v[2:] // a partita IVA written with its country code
	}
	switch {
	case len(v) == 11 && allDigits(v):
		return candidate{value: v, kind: Company, err: CheckCompany(v)}, true
	case len(v) == 16 && personRE.MatchString(v):
		return candidate{value: v, kind: Person, err: CheckPerson(v)}, true
	case len(v) == 16 && hasDigit(v) && hasLetter(v):
		return candidate{value: v, kind: Person, err: ErrFormat}, true
	case afterPrefix && hasDigit(v) && len(v) >= 5 && len(v) <= 20:
		kind := Person
		if allDigits(v) {
			kind = Company
		}
		return candidate{value: v, kind: kind, err: ErrFormat}, true
	}
	return candidate{}, false
}

// brokenAt reads a code written across tokens j…k that only white space
// or invisible characters separate: 16 characters in the layout of a
// personal code (with a digit, or else valid), or 11 digits (IT before
// them allowed) that make a valid company code, or any 11 digits after a
// CF prefix. The code is reported with ErrBroken and its value as found
// (see shown); a space after a leading IT alone is no break.
func brokenAt(s string, toks []token, j int, afterPrefix bool) (candidate, int, bool) {
	v, breaks := "", 0
	for k := j; k < len(toks) && len(v) <= 16; k++ {
		if k > j {
			if !isGap(s[toks[k-1].end:toks[k].start]) {
				break
			}
			if k > j+1 || v != "IT" {
				breaks++
			}
		}
		v += toks[k].code
		if kind, ok := brokenShape(v, afterPrefix); ok && breaks > 0 {
			return candidate{value: shown(s[toks[j].start:toks[k].end]), kind: kind, err: ErrBroken}, k, true
		}
	}
	return candidate{}, 0, false
}

// brokenShape tells whether the joined pieces v make a code (see brokenAt).
func brokenShape(v string, afterPrefix bool) (kind string, ok bool) {
	if len(v) == 13 && strings.HasPrefix(v, "IT") && allDigits(v[2:]) {
		v = v[2:]
	}
	switch {
	case len(v) == 16 && personRE.MatchString(v):
		return Person, hasDigit(v) || CheckPerson(v) == nil
	case len(v) == 11 && allDigits(v):
		return Company, afterPrefix || CheckCompany(v) == nil
	}
	return "", false
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
