// Package subject reads the OGGETTO of a mail (REQUIREMENTS C4): the
// taxpayer's codice fiscale, the gestione previdenziale and the summary.
// It is tolerant of form (order, separators, case, accents, prefixes) and
// strict on content (a wrong check character is wrong).
//
// Only Latin letters and ASCII digits make a codice fiscale. Before a
// value is read as a code, the parser folds only what a person means by
// it: case (a–z as A–Z), accents (é as E: the marks of the canonical
// decomposition are removed) and the fullwidth forms U+FF01–U+FF5E, which
// an input method types for the ASCII characters themselves (the whole
// subject is read with them narrowed). Any other letter or digit is not
// folded: a value in the shape of a code that holds one (ſ U+017F for S, ı
// U+0131 for I, a Cyrillic Ѕ, 𝐒, Arabic-Indic digits …) is reported as
// invalid, shown as written (ErrCharacter).
//
// A code broken up by white space or by invisible format characters
// (zero-width space U+200B, joiners U+200C/U+200D, word joiner U+2060,
// U+FEFF, soft hyphen U+00AD, and every other Unicode Cf character) is
// reported as invalid too, never as missing (ErrBroken). Its value is
// shown with each run of white space as one space and each invisible
// character as [U+XXXX], so that the sender can see what was written.
package subject

import (
	"errors"
	"regexp"
	"time"
)

// Kinds of codice fiscale.
const (
	Person  = "person"  // 16 characters
	Company = "company" // 11 digits (also the partita IVA)
)

// Why a codice fiscale is invalid.
var (
	ErrFormat     = errors.New("not the layout of a codice fiscale")
	ErrCheck      = errors.New("wrong check character")
	ErrDate       = errors.New("no such birth date")
	ErrOfficeCode = errors.New("no such office code in the company number")
	ErrCharacter  = errors.New("a character that is not a latin letter or an ascii digit")
	ErrBroken     = errors.New("a code broken by spaces or invisible characters")
)

var personRE = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)

// CheckPerson validates a 16-character codice fiscale (upper case),
// omocodia letters allowed in the digit positions.
func CheckPerson(v string) error {
	if !personRE.MatchString(v) {
		return ErrFormat
	}
	if checkChar(v[:15]) != v[15] {
		return ErrCheck
	}
	if !validBirthDate(v) {
		return ErrDate
	}
	return nil
}

// oddValues are the values of characters in odd positions (1st, 3rd …).
var oddValues = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23} // A-Z

func value(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	return int(c-'A') + 10
}

// checkChar computes the check character of the first 15 characters.
func checkChar(v string) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		n := value(v[i])
		if i%2 == 0 {
			sum += oddValues[n]
		} else if n >= 10 {
			sum += n - 10
		} else {
			sum += n
		}
	}
	return byte('A' + sum%26)
}

const omocodia = "LMNPQRSTUV"

// digit reads a digit position, decoding an omocodia letter.
func digit(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	for i := 0; i < len(omocodia); i++ {
		if omocodia[i] == c {
			return i
		}
	}
	return -1
}

// validBirthDate checks the encoded date exists, in the 1900s or 2000s.
func validBirthDate(v string) bool {
	yy := digit(v[6])*10 + digit(v[7])
	month := map[byte]time.Month{'A': 1, 'B': 2, 'C': 3, 'D': 4, 'E': 5, 'H': 6, 'L': 7, 'M': 8, 'P': 9, 'R': 10, 'S': 11, 'T': 12}[v[8]]
	d := digit(v[9])*10 + digit(v[10])
	if d > 40 {
		d -= 40 // women
	}
	if d < 1 || d > 31 {
		return false
	}
	for _, century := range []int{1900, 2000} {
		t := time.Date(century+yy, month, d, 0, 0, 0, 0, time.UTC)
		if t.Day() == d {
			return true
		}
	}
	return false
}

// CheckCompany validates an 11-digit codice fiscale or partita IVA the
// way the Agenzia delle Entrate's formal-correctness program does (Sogei's
// UCheckNum.trattCfNum, "Programma di controllo della correttezza formale
// del codice fiscale", agenziaentrate.gov.it): digits 1–7 are a
// progressive number (not all zero), digits 8–10 the office code (see
// validOffice and checkOffice000), digit 11 the Luhn check digit.
func CheckCompany(v string) error {
	if len(v) != 11 || !allDigits(v) {
		return ErrFormat
	}
	progressive, office := atoi(v[:7]), atoi(v[7:10])
	switch {
	case progressive == 0:
		return ErrFormat
	case office == 0:
		return checkOffice000(v, progressive)
	case !validOffice(office, progressive):
		return ErrOfficeCode
	case companyCheckDigit(v[:10]) != v[10]:
		return ErrCheck
	}
	return nil
}

// validOffice reports the office codes the AdE program accepts besides
// 000, each with its check digit:
//   - 001–100, 120, 121, 888 (codes given by the Agenzia's central
//     system), 999 (non-residents): partite IVA and codici fiscali of
//     entities; from progressive 8000000 on (entities without a partita
//     IVA) only offices up to 095;
//   - 151–245: provisional codes of the Intendenze di Finanza;
//   - 301–766 and 900–950: provisional codes of the Imposte Dirette.
func validOffice(office, progressive int) bool {
	switch {
	case office <= 100, office == 120, office == 121, office == 888, office == 999:
		return progressive < 8000000 || office <= 95
	case office >= 151 && office <= 245, office >= 301 && office <= 766, office >= 900 && office <= 950:
		return true
	}
	return false
}

// checkOffice000 checks a code with office 000, a provisional code given
// d'ufficio, which the AdE program accepts only in its old numbering
// ranges of the progressive: up to 0273960 (DU.74, where the program
// checks no digit), then 0273961–1072479, 1500001–1828636 and
// 2000001–2054095 (DU.75, 101.75) with their check digit. The program
// writes the second range's lower bound as the Java literal 0400000, which
// is octal (131072): it accepts from 0273961 on, not from 0400001, and so
// does this function.
func checkOffice000(v string, progressive int) error {
	switch {
	case progressive <= 273960:
		return nil
	case progressive <= 1072479, progressive > 1500000 && progressive <= 1828636, progressive > 2000000 && progressive <= 2054095:
		if companyCheckDigit(v[:10]) != v[10] {
			return ErrCheck
		}
		return nil
	}
	return ErrOfficeCode
}

// atoi reads a run of ASCII digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// companyCheckDigit is the Luhn check digit of ten digits.
func companyCheckDigit(v string) byte {
	sum := 0
	for i := 0; i < 10; i++ {
		n := int(v[i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}

// Check validates v (upper case, no separators) as either kind.
func Check(v string) (kind string, err error) {
	if len(v) == 11 {
		return Company, CheckCompany(v)
	}
	return Person, CheckPerson(v)
}
