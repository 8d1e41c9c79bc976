package subject

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testVoc = Vocabulary{
	{"aziende-con-dipendenti", []string{"aziende con dipendenti", "azienda con dipendenti", "datore di lavoro", "dm"}},
	{"lavoratori-domestici", []string{"lavoratori domestici", "domestico", "colf", "badante"}},
	{"artigiani", []string{"artigiano", "gestione artigiani"}},
	{"commercianti", []string{"commerciante"}},
	{"gestione-separata", []string{"gestione separata", "committenti", "liberi professionisti"}},
	{"aziende-agricole", []string{"aziende agricole", "agricola"}},
	{"sport-spettacolo", []string{"sport e spettacolo", "spettacolo", "ex enpals"}},
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, cf, invalid, gestione, summary string
	}{
		{"RSSMRA85T10A562S - Artigiani - richiesta sgravio 2025", "RSSMRA85T10A562S", "", "artigiani", "richiesta sgravio 2025"},
		{"richiesta sgravio | artigiani | rssmra85t10a562s", "RSSMRA85T10A562S", "", "artigiani", "richiesta sgravio"},
		{"R: I: cod. fisc. RSSMRA85T10A562S / gestione separata / rimborso", "RSSMRA85T10A562S", "", "gestione-separata", "rimborso"},
		{"Commercianti – C.F.: RSSMRA85T10A562S – variazione attività", "RSSMRA85T10A562S", "", "commercianti", "variazione attività"},
		{"COMMERCIANTE;CF RSSMRA85T10A562S;cessazione", "RSSMRA85T10A562S", "", "commercianti", "cessazione"},
		{"P.IVA IT01234560371 aziende con dipendenti: DURC irregolare", "01234560371", "", "aziende-con-dipendenti", "DURC irregolare"},
		{"01234560371 - Sport e Spettacolo - agibilità", "01234560371", "", "sport-spettacolo", "agibilità"},
		{"Aziende Agricole, 01234560371, calcolo contributi", "01234560371", "", "aziende-agricole", "calcolo contributi"},
		{"colf RSSMRAQRCMNFNLRG assunzione", "RSSMRAQRCMNFNLRG", "", "lavoratori-domestici", "assunzione"},
		{"CF RSSMRA85T10A562T artigiani sgravio", "", "RSSMRA85T10A562T", "artigiani", "sgravio"},
		{"P.IVA 1234567 commercianti richiesta", "", "1234567", "commercianti", "richiesta"},
		{"01234567897 artigiani rimborso", "", "01234567897", "artigiani", "rimborso"},
		{"richiesta informazioni generiche", "", "", "", "richiesta informazioni generiche"},
		{"RSSMRA85T10A562T e poi RSSMRA85T10A562S artigiani", "RSSMRA85T10A562S", "", "artigiani", "RSSMRA85T10A562T e poi"},
		{"  ", "", "", "", ""},
	} {
		r := Parse(tc.in, testVoc)
		if r.CodiceFiscale != tc.cf || r.Invalid != tc.invalid || r.Gestione != tc.gestione || r.Summary != tc.summary {
			t.Errorf("Parse(%q) = cf %q invalid %q gestione %q summary %q,\n want cf %q invalid %q gestione %q summary %q",
				tc.in, r.CodiceFiscale, r.Invalid, r.Gestione, r.Summary, tc.cf, tc.invalid, tc.gestione, tc.summary)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"RSSMRA85T10A562S - Artigiani - richiesta", "C.F. 01234560371 aziende con dipendenti",
		"R: I: cod. fisc. x / gestione separata", "–—|/:;,", "ààà 𝕏 \x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		done := make(chan Result, 1)
		go func() { done <- Parse(s, testVoc) }()
		var r Result
		select {
		case r = <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("Parse(%q) did not return within 2s", s)
		}
		if r.CodiceFiscale != "" {
			if _, err := Check(r.CodiceFiscale); err != nil {
				t.Errorf("Parse(%q) returned invalid codice fiscale %q", s, r.CodiceFiscale)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(r.Summary) {
			t.Errorf("summary of valid UTF-8 is not: %q", r.Summary)
		}
		if strings.TrimSpace(r.Summary) != r.Summary {
			t.Errorf("summary %q not trimmed", r.Summary)
		}
	})
}
