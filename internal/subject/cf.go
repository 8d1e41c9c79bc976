// Package subject reads the OGGETTO of a mail (REQUIREMENTS C4): the
// taxpayer's codice fiscale, the gestione previdenziale and the summary.
// It is tolerant of form (order, separators, case, accents, prefixes) and
// strict on content (a wrong check character is wrong).
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

// CheckCompany validates an 11-digit codice fiscale or partita IVA: the
// Luhn check digit and the office code (digits 8–10: 001–100, 120, 121,
// 888, 999).
func CheckCompany(v string) error {
	if len(v) != 11 {
		return ErrFormat
	}
	for i := 0; i < 11; i++ {
		if v[i] < '0' || v[i] > '9' {
			return ErrFormat
		}
	}
	if v[:7] == "0000000" {
		return ErrFormat
	}
	office := v[7:10]
	if !(office >= "001" && office <= "100") && office != "120" && office != "121" && office != "888" && office != "999" {
		return ErrOfficeCode
	}
	if companyCheckDigit(v[:10]) != v[10] {
		return ErrCheck
	}
	return nil
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
