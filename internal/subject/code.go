package subject

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// codeForm reads a token's text, its accents already removed, as a code:
// a–z upper-cased. latin reports whether that leaves only ASCII letters
// and digits; where it does not, v stands each other letter or digit for
// its look-alike (see lookAlike), so that the shape of a code is still
// recognised.
func codeForm(text string) (v string, latin bool) {
	b := make([]byte, 0, len(text))
	latin = true
	for _, r := range text {
		c, ok := asciiAlnum(r)
		if !ok {
			latin, c = false, lookAlike(r)
		}
		b = append(b, c)
	}
	return string(b), latin
}

// asciiAlnum returns an ASCII letter (upper-cased) or digit.
func asciiAlnum(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
		return byte(r), true
	case r >= 'a' && r <= 'z':
		return byte(r - 'a' + 'A'), true
	}
	return 0, false
}

// lookAlike returns the ASCII character a letter or digit passes for, by
// its upper case (ſ → S, ı → I) or its compatibility decomposition
// (𝐒 → S); else X for a letter, 0 for a digit. It only tells the shape of
// a value: a code holding such a character is never valid.
func lookAlike(r rune) byte {
	if b, ok := asciiAlnum(unicode.ToUpper(r)); ok {
		return b
	}
	d, _ := utf8.DecodeRuneInString(norm.NFKD.String(string(r)))
	if b, ok := asciiAlnum(unicode.ToUpper(d)); ok {
		return b
	}
	if unicode.IsDigit(r) {
		return '0'
	}
	return 'X'
}

// isGap reports whether s, between two tokens, is only white space and
// invisible format characters (Unicode Cf: U+200B, U+200C, U+200D,
// U+2060, U+FEFF, U+00AD …).
func isGap(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return s != ""
}

// shown renders a value found in the subject for the answer and the
// record, printable and on one line: ASCII letters upper-cased, each run
// of white space as one space, each invisible format character as
// [U+XXXX], every other character as written.
func shown(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
		space = false
	}
	return b.String()
}
