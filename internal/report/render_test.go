package report_test

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"

	"gatewayd/internal/report"
)

// TestCSV_rows: one row per mailbox and week under the documented
// header; reasons as reason=n sorted by code; the median with its half.
func TestCSV_rows(t *testing.T) {
	var b bytes.Buffer
	if err := report.CSV(&b, built(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 1+3*3 || !reflect.DeepEqual(rows[0], report.CSVHeader) {
		t.Fatalf("CSV: %d rows, %v, header %v", len(rows), err, rows[0])
	}
	for _, want := range [][]string{
		{"gestione-credito", "GestioneCredito.Ferrara@inps.it", "2026-W50", "2026-12-07", "2026-12-13", "4", "1", "1", "2",
			"invalid-codice-fiscale=1;missing-gestione=1;missing-summary=1", "0", "0", "1", "0", "2", "0", "0", "0", "2", "2", "0", "1"},
		{"gestione-credito", "GestioneCredito.Ferrara@inps.it", "2026-W51", "2026-12-14", "2026-12-20", "2", "1", "0", "0",
			"", "0", "1", "1", "1", "1", "1", "1", "0", "7.5", "11", "0", "0"},
		{"pec", "direzione.provinciale.ferrara@postacert.inps.gov.it", "2026-W51", "2026-12-14", "2026-12-20", "0", "0", "0", "0",
			"", "0", "0", "0", "0", "3", "3", "0", "0", "", "", "1", "0"},
	} {
		found := false
		for _, r := range rows {
			found = found || reflect.DeepEqual(r, want)
		}
		if !found {
			t.Errorf("no CSV row\n%q in\n%q", want, rows)
		}
	}
}

// TestText_tables: a table per mailbox and one of all, the refusals by
// reason per mailbox, the flagged sender.
func TestText_tables(t *testing.T) {
	var b bytes.Buffer
	if err := report.Text(&b, built(t)); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"gestione-credito (GestioneCredito.Ferrara@inps.it)", "All mailboxes", "2026-W51",
		"Ritardatario@Studio.it  3 delays  since 2026-12-15  pec"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "2026-W51" || f[0] == "missing-gestione") {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	want := []string{
		"2026-W51 2026-12-14 2026-12-20 2 1 0 0 0 1 1 1 1 1 1 0 7.5 11 0 0", // gestione-credito
		"2026-W51 2026-12-14 2026-12-20 1 1 0 0 0 0 2 0 2 1 0 0 5 10 0 0",   // anagrafica-flussi
		"2026-W51 2026-12-14 2026-12-20 0 0 0 0 0 0 0 0 3 3 0 0 - - 1 0",    // pec
		"2026-W51 2026-12-14 2026-12-20 3 2 0 0 0 1 3 1 6 5 1 0 7 11 1 0",   // all: replies 0, 4, 10, 11
		"missing-gestione 2 0 0 2",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("text lines:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
