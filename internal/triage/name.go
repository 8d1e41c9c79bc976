package triage

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NameMatches reports whether subject carries the name of the person
// whose 16-character codice fiscale is cf: one run of up to three words
// whose surname code is cf[0:3] and another whose name code is cf[3:6]
// (DM 23 dicembre 1976: consonants, then vowels, then X; a first name
// with four or more consonants takes the 1st, 3rd and 4th). Order,
// case, accents, apostrophes and separators do not matter. An 11-digit
// code (a company) has no name in it: it always matches.
func NameMatches(subject, cf string) bool {
	if len(cf) != 16 {
		return true
	}
	words := letterWords(strings.ReplaceAll(strings.ToUpper(subject), cf, " "))
	surnames, names := spans(words, surnameCode, cf[0:3]), spans(words, nameCode, cf[3:6])
	for _, s := range surnames {
		for _, n := range names {
			if s[1] <= n[0] || n[1] <= s[0] {
				return true
			}
		}
	}
	return false
}

// spans returns the runs [i, j) of one to three words whose code is want.
func spans(words []string, code func(string) string, want string) [][2]int {
	var out [][2]int
	for i := range words {
		joined := ""
		for j := i; j < len(words) && j < i+3; j++ {
			if joined += words[j]; len(joined) > maxNameWord {
				break
			}
			if code(joined) == want {
				out = append(out, [2]int{i, j + 1})
			}
		}
	}
	return out
}

var stripMarks = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// letterWords returns the subject's words of Latin letters A–Z, upper
// case, accents removed; any other character separates words.
func letterWords(s string) []string {
	folded, _, err := transform.String(stripMarks, s)
	if err != nil {
		folded = s
	}
	return strings.FieldsFunc(strings.ToUpper(folded), func(r rune) bool { return r < 'A' || r > 'Z' })
}

func isVowel(r rune) bool { return strings.ContainsRune("AEIOU", r) }

// maxNameWord bounds the words tried as names: none is longer.
const maxNameWord = 40

func split(w string) (cons, vows string) {
	var c, v strings.Builder
	for _, r := range w {
		if isVowel(r) {
			v.WriteRune(r)
		} else {
			c.WriteRune(r)
		}
	}
	return c.String(), v.String()
}

// surnameCode is the three letters a surname gives a codice fiscale.
func surnameCode(w string) string {
	cons, vows := split(w)
	return (cons + vows + "XXX")[:3]
}

// nameCode is the three letters a first name gives a codice fiscale.
func nameCode(w string) string {
	cons, vows := split(w)
	if len(cons) >= 4 {
		return cons[0:1] + cons[2:4]
	}
	return (cons + vows + "XXX")[:3]
}
