package subject

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestCheck_sharedVectors runs ../shared/testdata/cf_vectors.tsv (skipped
// where shared/ is absent).
func TestCheck_sharedVectors(t *testing.T) {
	f, err := os.Open("../../../shared/testdata/cf_vectors.tsv")
	if err != nil {
		t.Skip("../shared/testdata/cf_vectors.tsv not found")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			continue
		}
		value, valid, source := cols[0], cols[1] == "true", cols[len(cols)-1]
		if strings.Contains(source, "Belfiore") {
			continue // needs the place registry with dates, which gatewayd does not keep
		}
		_, err := Check(strings.ToUpper(value))
		if (err == nil) != valid {
			t.Errorf("Check(%q) = %v, want valid=%v (%s)", value, err, valid, source)
		}
		n++
	}
	if n < 90 {
		t.Errorf("read %d vectors, want about 100", n)
	}
}

func TestCheck_own(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want error
	}{
		{"RSSMRA85T10A562S", nil},
		{"RSSMRA85T10A562T", ErrCheck},
		{"RSSMRA85T10A56", ErrFormat},
		{"RSSMRA85F10A562S", ErrFormat}, // F is no month letter
		{"RSSMRA85B30A562A", ErrCheck},
		{"01234560371", nil},
		{"01234560372", ErrCheck},
		{"01234567897", ErrOfficeCode},
		{"00000000000", ErrFormat},
	} {
		if _, err := Check(tc.v); err != tc.want {
			t.Errorf("Check(%q) = %v, want %v", tc.v, err, tc.want)
		}
	}
}

// company returns ten digits with their Luhn check digit.
func company(ten string) string { return ten + string(companyCheckDigit(ten)) }

// wrongDigit returns ten digits with a check digit that is not theirs.
func wrongDigit(ten string) string {
	return ten + string('0'+(companyCheckDigit(ten)-'0'+1)%10)
}

// TestCheckCompany_officeCodes follows the AdE program's office codes
// (see CheckCompany); every vector has its right check digit unless said.
func TestCheckCompany_officeCodes(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want error
	}{
		{company("0123456432"), nil}, // office 432: a provisional code of the Imposte Dirette
		{wrongDigit("0123456432"), ErrCheck},
		{company("0123456888"), nil},
		{company("0123456999"), nil},
		{company("0123456001"), nil},
		{company("0123456100"), nil},
		{company("0123456120"), nil},
		{company("0123456121"), nil},
		{company("0123456151"), nil},
		{company("0123456245"), nil},
		{company("0123456301"), nil},
		{company("0123456766"), nil},
		{company("0123456900"), nil},
		{company("0123456950"), nil},
		{company("0123456101"), ErrOfficeCode},
		{company("0123456119"), ErrOfficeCode},
		{company("0123456122"), ErrOfficeCode},
		{company("0123456150"), ErrOfficeCode},
		{company("0123456246"), ErrOfficeCode},
		{company("0123456300"), ErrOfficeCode},
		{company("0123456767"), ErrOfficeCode},
		{company("0123456887"), ErrOfficeCode},
		{company("0123456889"), ErrOfficeCode},
		{company("0123456899"), ErrOfficeCode},
		{company("0123456951"), ErrOfficeCode},
		{company("0123456998"), ErrOfficeCode},
		// entities without a partita IVA (progressive from 8000000): offices up to 095
		{company("8012345095"), nil},
		{company("8012345096"), ErrOfficeCode},
		{company("9012345120"), ErrOfficeCode},
		{company("9012345999"), ErrOfficeCode},
		{company("9012345432"), nil},
		// office 000: only the old ranges of the progressive
		{company("0100000000"), nil},
		{wrongDigit("0100000000"), nil}, // DU.74: the program checks no digit
		{company("0300000000"), nil},    // the program's octal 0400000
		{company("0500000000"), nil},
		{wrongDigit("0500000000"), ErrCheck},
		{company("1072479000"), nil},
		{company("1072480000"), ErrOfficeCode},
		{company("1200000000"), ErrOfficeCode},
		{company("1500000000"), ErrOfficeCode},
		{company("1600000000"), nil},
		{company("1828637000"), ErrOfficeCode},
		{company("2000000000"), ErrOfficeCode},
		{company("2050000000"), nil},
		{company("2054096000"), ErrOfficeCode},
		{company("0000000001"), ErrFormat},
	} {
		if err := CheckCompany(tc.v); err != tc.want {
			t.Errorf("CheckCompany(%q) = %v, want %v", tc.v, err, tc.want)
		}
	}
}
