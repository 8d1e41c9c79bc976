package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/report"
)

// demoSpan is a span holding the demo's mails (received today) and its
// deadline mails (a few weeks on, on its simulated clock): 62 days, the
// longest span reported by week.
func demoSpan() (string, string) {
	today := clock.Day(time.Now())
	return today.Format(time.DateOnly), today.AddDate(0, 0, 61).Format(time.DateOnly)
}

// TestReport_csvAndText: gatewayd report on the demo's store, as CSV and
// as text: the documented header, one row per mailbox and week, and the
// demo's figures for gestione-credito.
func TestReport_csvAndText(t *testing.T) {
	_, conf := demoState(t)
	from, to := demoSpan()
	out, code := cmd("report", "--config", conf, "--from", from, "--to", to, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(rows) < 2 {
		t.Fatalf("report --format csv = %d, %v:\n%s", code, err, out)
	}
	if !reflect.DeepEqual(rows[0], report.CSVHeader) {
		t.Errorf("CSV header = %v", rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	weeks := map[string]int{}
	sum := map[string]int{}
	var last, reasons []string
	for _, r := range rows[1:] {
		weeks[r[col["mailbox"]]]++
		if r[col["mailbox"]] != "gestione-credito" {
			continue
		}
		for _, h := range []string{"received", "protocolled", "refused", "ignored", "quarantined", "solleciti", "escalations"} {
			n, _ := strconv.Atoi(r[col[h]])
			sum[h] += n
		}
		if v := r[col["refused_by_reason"]]; v != "" {
			reasons = append(reasons, v)
		}
		last = r
	}
	if len(weeks) != 4 || weeks["gestione-credito"] < 9 || weeks["gestione-credito"] > 10 || weeks["pec"] != weeks["gestione-credito"] {
		t.Errorf("rows per mailbox = %v, want the 4 mailboxes × the weeks of 62 days", weeks)
	}
	want := map[string]int{"received": 9, "protocolled": 1, "refused": 2, "ignored": 1, "quarantined": 5, "solleciti": 1, "escalations": 1}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("gestione-credito over the span = %v, want %v", sum, want)
	}
	if !reflect.DeepEqual(reasons, []string{"use-cassetto=1;wrong-mailbox=1"}) {
		t.Errorf("gestione-credito's refused_by_reason = %q", reasons)
	}
	if last[col["open_at_end"]] != "1" || last[col["overdue_at_end"]] != "1" || last[col["reply_median_workdays"]] != "" ||
		last[col["annulments"]] != "" && last[col["annulments"]] != "0" { // empty on a store without annulments
		t.Errorf("gestione-credito's last week = %v", last)
	}
	text, code := cmd("report", "--from", from, "--to", to, "--config", conf, "--mailbox", "GestioneCredito.Ferrara@inps.it")
	if code != exitOK || !strings.Contains(text, "gestione-credito (GestioneCredito.Ferrara@inps.it)") || strings.Contains(text, "anagrafica-flussi (") {
		t.Fatalf("report --mailbox ADDRESS = %d:\n%s", code, text)
	}
	var total []string
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "TOTAL" {
			total = f
		}
	}
	wantTotal := []string{"TOTAL", from, to, "9", "1", "0", "2", "1", "5", "0", "0", "1", "1", "1", "1", "-", "-", "0", "-"}
	if len(total) == len(wantTotal) && total[len(total)-1] == "0" { // a store that records annulments
		wantTotal[len(wantTotal)-1] = "0"
	}
	if !reflect.DeepEqual(total, wantTotal) {
		t.Errorf("text TOTAL = %v\nwant         %v\n%s", total, wantTotal, text)
	}
	for _, want := range []string{"use-cassetto", "wrong-mailbox", "Senders flagged for repeated delays", "IN TIME / LATE"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

// TestReport_htmlFile: -o writes the HTML report with mode 0600, also
// over an existing file readable by others; the demo leaves its own in
// its state directory.
func TestReport_htmlFile(t *testing.T) {
	state, conf := demoState(t)
	from, to := demoSpan()
	demoReport := filepath.Join(state, "compliance-report.html")
	if st, err := os.Stat(demoReport); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the demo's report: %v %v", st, err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	os.WriteFile(path, []byte("old"), 0o644)
	if out, code := cmd("report", "--config", conf, "--from", from, "--to", to, "--format", "html", "-o", path); code != exitOK || out != "" {
		t.Fatalf("report -o = %d: %s", code, out)
	}
	st, err := os.Stat(path)
	b, _ := os.ReadFile(path)
	if err != nil || st.Mode().Perm() != 0o600 || !strings.HasPrefix(string(b), "<!DOCTYPE html>") || strings.Count(string(b), `<svg class="chart"`) != 3 {
		t.Errorf("report file: %v %v, %d bytes", st.Mode(), err, len(b))
	}
}

// TestReport_usage: -h answers with exit 0; bad flags and a bad
// configuration exit as the other commands do (exitBadConfig).
func TestReport_usage(t *testing.T) {
	if out, code := cmd("report", "-h"); code != exitOK || !strings.Contains(out, "usage: gatewayd report") {
		t.Errorf("report -h = %d: %s", code, out)
	}
	if out, code := cmd("help"); !strings.Contains(out, "report   --config FILE --from") || code != exitOK {
		t.Errorf("usage lacks report:\n%s", out)
	}
	conf := filepath.Join(t.TempDir(), "gatewayd.yaml")
	os.WriteFile(conf, []byte("office: {name: Test, code: FE}\nstate_dir: "+t.TempDir()+"\nmailboxes: []\nunknown_key: 1\n"), 0o600)
	if out, code := cmd("report", "--config", conf, "--from", "2026-12-01", "--to", "2026-12-31"); code != exitBadConfig {
		t.Errorf("report with a bad configuration = %d: %s", code, out)
	}
	_, good := demoState(t)
	for _, args := range [][]string{
		{"--to", "2026-12-31"},
		{"--from", "2026-12-01", "--to", "2026-11-30"},
		{"--from", "1/12/2026", "--to", "2026-12-31"},
		{"--from", "2026-12-01", "--to", "2026-12-31", "--by", "year"},
		{"--from", "2026-12-01", "--to", "2026-12-31", "--format", "pdf"},
		{"--from", "2026-12-01", "--to", "2026-12-31", "--mailbox", "nosuch"},
		{"--from", "2026-12-01", "--to", "2026-12-31", "extra"},
	} {
		if out, code := cmd(append([]string{"report", "--config", good}, args...)...); code != exitBadConfig {
			t.Errorf("report %v = %d, want %d: %s", args, code, exitBadConfig, out)
		}
	}
}
