package protocol

import (
	"testing"
	"time"
)

func TestFormat_Label(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{DefaultFormat, "INPS.FE.2026.0000042"},
		{"{year}/{number}", "2026/42"},
		{"PROT-{office}-{number:3}-{year}", "PROT-FE-042-2026"},
	} {
		f, err := Parse(tc.format)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tc.format, err)
		}
		if got := f.Label("FE", 2026, 42); got != tc.want {
			t.Errorf("Label(%q) = %q, want %q", tc.format, got, tc.want)
		}
	}
}

func TestParse_errors(t *testing.T) {
	for _, in := range []string{"", "{office}", "{number}{number}", "{numero}", "{number:0}", "{year:4}{number}", "{number"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = nil error", in)
		}
	}
}

func TestYear_rome(t *testing.T) {
	// 23:30 UTC on 31 December is already 1 January in clock.Rome.
	if y := Year(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)); y != 2027 {
		t.Errorf("Year() = %d, want 2027", y)
	}
}
