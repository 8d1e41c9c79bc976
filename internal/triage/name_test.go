package triage

import "testing"

// TestNameMatches: the name is recognised from the codice fiscale's
// letters, in any order and form; a wrong or missing name is not.
func TestNameMatches(t *testing.T) {
	const cf = "RSSMRA85T10A562S" // Rossi Mario
	for subject, want := range map[string]bool{
		"RSSMRA85T10A562S - lavoratori domestici - Rossi Mario - rimborso":        true,
		"RSSMRA85T10A562S - lavoratori domestici - MARIO ROSSI - rimborso":        true,
		"lavoratori domestici, datore di lavoro rossi mario, RSSMRA85T10A562S":    true,
		"RSSMRA85T10A562S - lavoratori domestici - richiesta rimborso contributi": false,
		"RSSMRA85T10A562S - lavoratori domestici - Rossi - rimborso":              false,
		"RSSMRA85T10A562S - lavoratori domestici - Bianchi Mario - rimborso":      false,
	} {
		if got := NameMatches(subject, cf); got != want {
			t.Errorf("NameMatches(%q) = %v, want %v", subject, got, want)
		}
	}
	// De Luca Gianfranco: a surname of two words, a name of four consonants.
	if !NameMatches("DLCGFR70A01D548X domestici - De Luca Gianfranco - variazione", "DLCGFR70A01D548X") {
		t.Error("De Luca Gianfranco not recognised")
	}
	if !NameMatches("01234560371 domestici - ditta", "01234560371") {
		t.Error("a company code must match")
	}
}
