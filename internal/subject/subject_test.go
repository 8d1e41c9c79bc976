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
		"R: I: cod. fisc. x / gestione separata", "–—|/:;,", "ààà 𝕏 \x00\xff",
		"RSSMRA85T10 A562S - artigiani", "RSSMRA85\u200bT10A562S", "Rſ\u0131SMRA85T10A562S", "P.IVA IT 0123456\u00ad0371",
		"ＲＳＳＭＲＡ８５Ｔ１０Ａ５６２Ｓ"} {
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

// TestParse_latinOnly: only Latin letters and ASCII digits make a code;
// accents and fullwidth forms are folded, look-alikes are invalid and
// shown as written.
func TestParse_latinOnly(t *testing.T) {
	for _, tc := range []struct {
		in, cf, invalid, reason string
	}{
		{"R\u017fSMRA85T10A562S - artigiani - sgravio", "", "R\u017fSMRA85T10A562S", ErrCharacter.Error()},     // ſ for S
		{"MA\u0131LCU91A25F839D artigiani sgravio", "", "MA\u0131LCU91A25F839D", ErrCharacter.Error()},         // ı for I
		{"r\u017fsmra85t10a562s artigiani sgravio", "", "R\u017fSMRA85T10A562S", ErrCharacter.Error()},         // lower case
		{"R\u0405SMRA85T10A562S artigiani sgravio", "", "R\u0405SMRA85T10A562S", ErrCharacter.Error()},         // Cyrillic Ѕ
		{"RS\u017fMRAQRCMNFNLRG artigiani sgravio", "", "RS\u017fMRAQRCMNFNLRG", ErrCharacter.Error()},         // no digit
		{"\U0001d412SSMRA85T10A562S artigiani sgravio", "", "\U0001d412SSMRA85T10A562S", ErrCharacter.Error()}, // 𝐒
		{"\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0660\u0663\u0667\u0661 artigiani sgravio", "",
			"\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0660\u0663\u0667\u0661", ErrCharacter.Error()}, // Arabic-Indic digits
		{"CF R\u017fSMRA85 artigiani sgravio", "", "R\u017fSMRA85", ErrCharacter.Error()},
		{"R\u017fSMRA85T10A562S e RSSMRA85T10A562S artigiani", "RSSMRA85T10A562S", "", ""},
		{"\uff32\uff33\uff33\uff2d\uff32\uff21\uff18\uff15\uff34\uff11\uff10\uff21\uff15\uff16\uff12\uff33 artigiani sgravio", "RSSMRA85T10A562S", "", ""},
		{"\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff10\uff13\uff17\uff11\uff0d artigiani \uff0d sgravio", "01234560371", "", ""},
		{"rssmr\u00e0\u0038\u0035t10a562s artigiani sgravio", "RSSMRA85T10A562S", "", ""},     // à
		{"rssmra\u0300\u0038\u0035t10a562s artigiani sgravio", "RSSMRA85T10A562S", "", ""},    // a + combining grave
		{"R\u0130SMRA85T10A562S artigiani sgravio", "", "RISMRA85T10A562S", ErrCheck.Error()}, // İ is I with a dot: an accent
	} {
		r := Parse(tc.in, testVoc)
		if r.CodiceFiscale != tc.cf || r.Invalid != tc.invalid || r.InvalidReason != tc.reason {
			t.Errorf("Parse(%q) = cf %q invalid %q (%s), want cf %q invalid %q (%s)",
				tc.in, r.CodiceFiscale, r.Invalid, r.InvalidReason, tc.cf, tc.invalid, tc.reason)
		}
		if r.Gestione != "artigiani" {
			t.Errorf("Parse(%q): gestione %q", tc.in, r.Gestione)
		}
	}
}

// TestParse_broken: a code broken by spaces or invisible characters is
// invalid, with the value as found, and not missing.
func TestParse_broken(t *testing.T) {
	for _, tc := range []struct {
		in, invalid, gestione, summary string
	}{
		{"RSSMRA85T10 A562S - artigiani - richiesta di sgravio", "RSSMRA85T10 A562S", "artigiani", "richiesta di sgravio"},
		{"rss mra 85t10  a562s | artigiani | sgravio", "RSS MRA 85T10 A562S", "artigiani", "sgravio"},
		{"RSSMRA85\u200bT10A562S artigiani sgravio", "RSSMRA85[U+200B]T10A562S", "artigiani", "sgravio"},
		{"RSSMRA85\u200cT10A562S artigiani sgravio", "RSSMRA85[U+200C]T10A562S", "artigiani", "sgravio"},
		{"RSSMRA85\u200dT10A562S artigiani sgravio", "RSSMRA85[U+200D]T10A562S", "artigiani", "sgravio"},
		{"RSSMRA85\u2060T10A562S artigiani sgravio", "RSSMRA85[U+2060]T10A562S", "artigiani", "sgravio"},
		{"RSSMRA85\ufeffT10A562S artigiani sgravio", "RSSMRA85[U+FEFF]T10A562S", "artigiani", "sgravio"},
		{"RSSMRA85\u00adT10A562S artigiani sgravio", "RSSMRA85[U+00AD]T10A562S", "artigiani", "sgravio"},
		{"RSSMRA85 \u200bT10A562T artigiani sgravio", "RSSMRA85 [U+200B]T10A562T", "artigiani", "sgravio"}, // and wrong
		{"RSSMRA QRCMNFNLRG artigiani sgravio", "RSSMRA QRCMNFNLRG", "artigiani", "sgravio"},
		{"0123456 0371 - commercianti - richiesta", "0123456 0371", "commercianti", "richiesta"},
		{"0123456\u200b0371 commercianti richiesta", "0123456[U+200B]0371", "commercianti", "richiesta"},
		{"P.IVA IT 0123456 0371 commercianti richiesta", "IT 0123456 0371", "commercianti", "richiesta"},
		{"P.IVA 0123456 0372 commercianti richiesta", "0123456 0372", "commercianti", "richiesta"},
		{"CF RSSMRA85T10 A562S artigiani sgravio", "RSSMRA85T10 A562S", "artigiani", "sgravio"},
		{"R\u017fSMRA85 T10A562S artigiani sgravio", "R\u017fSMRA85 T10A562S", "artigiani", "sgravio"},
	} {
		r := Parse(tc.in, testVoc)
		if r.CodiceFiscale != "" || r.Invalid != tc.invalid || r.Gestione != tc.gestione || r.Summary != tc.summary {
			t.Errorf("Parse(%q) = cf %q invalid %q gestione %q summary %q,\n want invalid %q gestione %q summary %q",
				tc.in, r.CodiceFiscale, r.Invalid, r.Gestione, r.Summary, tc.invalid, tc.gestione, tc.summary)
		}
	}
}

// TestParse_notBroken: whole codes next to invisible characters stay
// valid, and ordinary words and numbers are no broken code.
func TestParse_notBroken(t *testing.T) {
	for _, tc := range []struct {
		in, cf, invalid string
	}{
		{"\ufeffRSSMRA85T10A562S\u200b - artigiani - sgravio", "RSSMRA85T10A562S", ""},
		{"RSSMRA85T10 A562S artigiani, corretto: RSSMRA85T10A562S", "RSSMRA85T10A562S", ""},
		{"P.IVA IT 01234560371 commercianti richiesta", "01234560371", ""},
		{"IT 01234560371 commercianti richiesta", "01234560371", ""},
		{"Artigiani - richiesta estratto conto contributivo", "", ""},
		{"artigiani richiesta rimborso anni 2023 2024 2025", "", ""},
		{"artigiani rate 1 2 3 4 5 6 7 8 9 10 11 12", "", ""},
		{"artigiani tel 0532 1234567 richiamare", "", ""},
		{"artigiani avviso 16 11 2026 n 1234", "", ""},
		{"Gestione separata committenti sgravio avviso bonario", "", ""},
		{"artigiani richiesta estratto conto anno duemila venticinque", "", ""},
	} {
		r := Parse(tc.in, testVoc)
		if r.CodiceFiscale != tc.cf || r.Invalid != tc.invalid {
			t.Errorf("Parse(%q) = cf %q invalid %q, want cf %q invalid %q", tc.in, r.CodiceFiscale, r.Invalid, tc.cf, tc.invalid)
		}
	}
}

// TestShown: the value shown is printable and on one line.
func TestShown(t *testing.T) {
	in := "rss\t\u200b\u202e mra\u00ad85"
	if got, want := shown(in), "RSS [U+200B][U+202E] MRA[U+00AD]85"; got != want {
		t.Errorf("shown(%q) = %q, want %q", in, got, want)
	}
}
