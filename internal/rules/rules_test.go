package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/clock"
)

func TestLoad_examples(t *testing.T) {
	for _, tc := range []struct {
		dir       string
		mailboxes int
		box       string
		role      string
		days      int
		patron    time.Time
	}{
		{"../../rules/ferrara", 5, "gestionecredito.ferrara@inps.it", RoleInstitutional, 10, time.Date(2027, 4, 23, 9, 0, 0, 0, clock.Rome)},
		{"../../rules/milano", 21, "PREAVVISODIACCERTAMENTO.legnano@inps.it", RoleDURC, 5, time.Date(2026, 12, 7, 9, 0, 0, 0, clock.Rome)},
	} {
		r, err := Load(tc.dir)
		if err != nil {
			t.Fatalf("Load(%s) = %v", tc.dir, err)
		}
		if len(r.Mailboxes) != tc.mailboxes {
			t.Errorf("%s: %d mailboxes, want %d", tc.dir, len(r.Mailboxes), tc.mailboxes)
		}
		m, ok := r.Mailbox(tc.box)
		if !ok || m.Role != tc.role || m.Days != tc.days {
			t.Errorf("%s: Mailbox(%s) = %+v, %v", tc.dir, tc.box, m, ok)
		}
		if r.Calendar.IsWorkday(tc.patron) {
			t.Errorf("%s: the patron day %s is a working day", tc.dir, tc.patron.Format("2006-01-02"))
		}
		if len(r.Vocabulary) != 7 || len(r.Telematic) < 10 {
			t.Errorf("%s: %d gestioni, %d telematic services", tc.dir, len(r.Vocabulary), len(r.Telematic))
		}
	}
}

// TestLoad_allErrors: every problem of every file at once, with lines.
func TestLoad_allErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) { os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
	write(FileUfficio, "ufficio: {nome: X, codice: FE}\ncalendario:\n  santo_patrono: {nome: S, giorno: 40, mese: 4}\n  orario_limite: \"25:99\"\noggetto: {lunghezza_minima_sintesi: 0}\ncolore: blu\n")
	write(FileCaselle, "caselle:\n  - indirizzo: a@b.it\n    tipo: posta\n    giorni_lavorativi: 0\n    casella_durc: c@b.it\n")
	write(FileVocabolario, "gestioni:\n  - nome: artigiani\n  - nome: pescatori\ndurc: {parole_chiave: []}\n")
	_, err := Load(dir)
	if err == nil {
		t.Fatal("Load() = nil, want errors")
	}
	got := err.Error()
	for _, want := range []string{
		"ufficio.yaml:3: santo_patrono", "ufficio.yaml:4: orario_limite", "ufficio.yaml:5: lunghezza_minima_sintesi",
		"ufficio.yaml:6: unknown key \"colore\"",
		"caselle.yaml:3: tipo \"posta\"", "caselle.yaml:4: giorni_lavorativi 0", "casella_durc c@b.it of a@b.it is not listed",
		"vocabolario.yaml:3: gestione \"pescatori\"", "vocabolario.yaml:1: gestione commercianti is missing",
		"vocabolario.yaml:4: durc.parole_chiave",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q; got:\n%s", want, got)
		}
	}
}

func TestLoad_missingDir(t *testing.T) {
	_, err := Load("/nonexistent")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/ufficio.yaml: cannot read") {
		t.Errorf("Load() = %v", err)
	}
}
