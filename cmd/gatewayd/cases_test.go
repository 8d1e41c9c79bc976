package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCaseCommands: the cases of the demo's store through the commands an
// operator runs: list (text and JSON, by state), show, wait, close.
func TestCaseCommands(t *testing.T) {
	_, conf := demoState(t)
	list, code := cmd("cases", "list", "--config", conf, "--json")
	var rows []caseRow
	if code != exitOK || json.Unmarshal([]byte(list), &rows) != nil || len(rows) != 4 {
		t.Fatalf("cases list --json = %d:\n%s", code, list)
	}
	var open, answered string
	for _, r := range rows {
		switch r.State {
		case "overdue":
			open = r.Protocol
		case "answered":
			answered = r.Protocol
		}
	}
	if closed, _ := cmd("cases", "--config", conf, "list", "--state", "closed"); !strings.Contains(closed, answered) || strings.Contains(closed, open) {
		t.Errorf("cases list --state closed:\n%s", closed)
	}
	show, code := cmd("case", "--config", conf, "show", open)
	for _, want := range []string{"state:       overdue", "step: risposta   sollecito", "escalation", "step-taken", "case-opened", "appointment:"} {
		if code != exitOK || !strings.Contains(show, want) {
			t.Errorf("case show lacks %q:\n%s", want, show)
		}
	}
	if got, code := cmd("case", "wait", open, "--config", conf); code != exitOK || !strings.Contains(got, "wait done") {
		t.Errorf("case wait = %d: %s", code, got)
	}
	if got, _ := cmd("cases", "--config", conf, "list", "--state", "waiting"); !strings.Contains(got, open) {
		t.Errorf("after case wait:\n%s", got)
	}
	if got, code := cmd("cases", "--config", conf, "list", "--mailbox", "nosuch"); code != exitBadConfig || !strings.Contains(got, "no configured mailbox") {
		t.Errorf("cases list --mailbox nosuch = %d: %s", code, got)
	}
	if got, code := cmd("cases", "--config", conf, "list", "--state", "answered"); code != exitBadConfig || !strings.Contains(got, "outcome of a closed one") {
		t.Errorf("cases list --state answered = %d: %s", code, got)
	}
	if got, code := cmd("case", "close", open, "--outcome", "unsatisfactory", "--config", conf); code != exitOK {
		t.Errorf("case close = %d: %s", code, got)
	}
	if show, _ := cmd("case", "--config", conf, "show", open); !strings.Contains(show, "closed (unsatisfactory)") ||
		!strings.Contains(show, "eligible (closed as unsatisfactory)") {
		t.Errorf("after case close:\n%s", show)
	}
	if got, code := cmd("case", "close", open, "--outcome", "maybe", "--config", conf); code == exitOK {
		t.Errorf("case close --outcome maybe = %d: %s", code, got)
	}
	if got, code := cmd("case", "close", "INPS.FE.2026.9999999", "--outcome", "withdrawn", "--config", conf); code == exitOK {
		t.Errorf("case close of no case = %d: %s", code, got)
	}
}

// TestFindAnything: messages list filters, show by Message-ID, export of
// the original bytes (refused when the spool was altered), and outbox
// list naming what each answer is about, on the demo's store.
func TestFindAnything(t *testing.T) {
	state, conf := demoState(t)
	var refused []map[string]any
	got, _ := cmd("messages", "list", "--config", conf, "--outcome", "refused", "--json")
	if json.Unmarshal([]byte(got), &refused) != nil || len(refused) != 6 {
		t.Errorf("messages list --outcome refused: %s", got)
	}
	if got, _ := cmd("messages", "list", "--config", conf, "--reason", "use-cassetto"); strings.Count(got, "use-cassetto") != 1 {
		t.Errorf("messages list --reason use-cassetto:\n%s", got)
	}
	if got, _ := cmd("messages", "list", "--config", conf, "--cf", "vrdlne70a41d548a"); !strings.Contains(got, "INPS.FE.2026.") || strings.Count(got, "\n") != 2 {
		t.Errorf("messages list --cf:\n%s", got)
	}
	if got, _ := cmd("messages", "list", "--config", conf, "--since", "2020-01-01", "--until", "2020-12-31"); strings.Count(got, "\n") != 1 {
		t.Errorf("messages list of 2020 is not empty:\n%s", got)
	}
	if got, code := cmd("show", "--config", conf, "<quesito-ordine-20112026@odcec.fe.it>"); code != exitOK || !strings.Contains(got, "normativa") {
		t.Errorf("show by Message-ID = %d:\n%s", code, got)
	}
	raw, code := cmd("export", "--config", conf, "quesito-ordine-20112026@odcec.fe.it")
	if code != exitOK || !strings.Contains(raw, "Subject: Quesito normativo - contribuzione soci lavoratori di cooperative") {
		t.Errorf("export = %d:\n%s", code, raw)
	}
	if got, _ := cmd("outbox", "--config", conf, "list"); !strings.Contains(got, "ABOUT") || !strings.Contains(got, "INPS.FE.2026.0000001") {
		t.Errorf("outbox list does not say what each answer is about:\n%s", got)
	}
	segs, _ := filepath.Glob(filepath.Join(state, "spool", "*", "*.seg"))
	for _, seg := range segs {
		b, _ := os.ReadFile(seg)
		os.WriteFile(seg, bytes.ReplaceAll(b, []byte("Quesito normativo - contribuzione"), []byte("Quesito normativo - CONTRIBUZIONE")), 0o600)
	}
	if got, code := cmd("export", "--config", conf, "quesito-ordine-20112026@odcec.fe.it"); code == exitOK || !strings.Contains(got, "altered") {
		t.Errorf("export of altered bytes = %d:\n%s", code, got)
	}
}

// TestReplay: the same rules change nothing; rules that no longer refuse
// companies with employees turn the Cassetto refusal into an acceptance;
// the store is not touched.
func TestReplay(t *testing.T) {
	state, conf := demoState(t)
	rulesDir := filepath.Join(state, "rules-ferrara") // the demo's rules trust its PEC provider
	if got, code := cmd("replay", "--config", conf, "--rules", rulesDir, "--since", "2020-01-01"); code != exitOK ||
		!strings.Contains(got, "16 messages since 2020-01-01") || !strings.Contains(got, "16 unchanged, 0 changed") {
		t.Errorf("replay with the same rules = %d:\n%s", code, got)
	}
	other := t.TempDir()
	os.CopyFS(other, os.DirFS(rulesDir))
	uf := filepath.Join(other, "ufficio.yaml")
	b, _ := os.ReadFile(uf)
	os.WriteFile(uf, bytes.Replace(b, []byte("respingi_aziende_con_dipendenti: true"), []byte("respingi_aziende_con_dipendenti: false"), 1), 0o644)
	before, _ := cmd("messages", "list", "--config", conf, "--json")
	got, code := cmd("replay", "--rules", other, "--since", "2020-01-01", "--config", conf, "--json")
	var changes []replayed
	if code != exitOK || json.Unmarshal([]byte(got), &changes) != nil || len(changes) != 1 ||
		changes[0].Was != "refused" || changes[0].Now != "accepted" || changes[0].WasWhy[0] != "use-cassetto" {
		t.Errorf("replay with the Cassetto choice changed = %d:\n%s", code, got)
	}
	if after, _ := cmd("messages", "list", "--config", conf, "--json"); after != before {
		t.Error("replay changed the store")
	}
}

// demoState runs the demo into a kept state directory and returns it and
// its configuration file.
func demoState(t *testing.T) (string, string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "-state", state}, &out, &errb); code != exitOK {
		t.Fatalf("demo: %d %s", code, errb.String())
	}
	return state, filepath.Join(state, "gatewayd.yaml")
}

// cmd runs gatewayd with args and returns its output and exit code.
func cmd(args ...string) (string, int) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String() + errb.String(), code
}
