package preflight

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatewayd/internal/config"
)

// load writes a configuration with one mailbox whose password file has
// mode perm, and the given state_dir and rules_dir lines, and loads it.
func load(t *testing.T, stateDir string, perm os.FileMode, extra string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("x"), perm); err != nil {
		t.Fatal(err)
	}
	os.Chmod(pw, perm) // past the umask
	path := filepath.Join(dir, "gatewayd.yaml")
	yaml := fmt.Sprintf("office: {name: X, code: FE}\nstate_dir: %q\n%smailboxes:\n  - name: a\n    address: a@b.it\n"+
		"    imap: {host: imap.b.it, user: a, password_file: %q}\n    smtp: {host: smtp.b.it, user: a, password_file: %q}\n", stateDir, extra, pw, pw)
	os.WriteFile(path, []byte(yaml), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFiles_stateDir: a state directory that is a file, or under one, is
// an error with the line of state_dir; one that exists, or can be created
// under a writable directory, is not.
func TestFiles_stateDir(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0o600)
	for _, c := range []struct {
		dir, want string
	}{
		{tmp, ""},
		{filepath.Join(tmp, "new", "state"), ""},
		{file, "gatewayd.yaml:2: state_dir " + file + ": not a directory"},
		{filepath.Join(file, "state"), "gatewayd.yaml:2: state_dir " + filepath.Join(file, "state") + ": does not exist, and " + file + " is not a directory"},
	} {
		errs := Files(load(t, c.dir, 0o600, "rules_dir: \"\"\n")).Errors
		got := fmt.Sprint(errs)
		if c.want == "" && len(errs) != 0 || c.want != "" && (len(errs) != 1 || !strings.Contains(got, c.want)) {
			t.Errorf("state_dir %s: Files().Errors = %s, want %q", c.dir, got, c.want)
		}
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: a directory without write permission cannot be shown")
		return
	}
	ro := filepath.Join(tmp, "ro")
	os.Mkdir(ro, 0o500)
	for _, dir := range []string{ro, filepath.Join(ro, "state")} {
		if errs := Files(load(t, dir, 0o600, "")).Errors; len(errs) != 1 || !strings.Contains(errs[0].Error(), "permission denied") {
			t.Errorf("state_dir %s (read-only): Files().Errors = %v, want permission denied", dir, errs)
		}
	}
}

// TestFiles_warnings: a password file others can read is named once (the
// IMAP and SMTP accounts share it), with its line; so is a missing
// rules_dir. A file readable by the group only is fine.
func TestFiles_warnings(t *testing.T) {
	f := Files(load(t, t.TempDir(), 0o644, ""))
	got := fmt.Sprint(f.Warnings)
	for _, want := range []string{"gatewayd.yaml:6: password_file ", "can be read by others (mode 0644)", "no rules_dir: every well-formed mail will be accepted"} {
		if !strings.Contains(got, want) {
			t.Errorf("Files().Warnings = %s, want %q", got, want)
		}
	}
	if len(f.Warnings) != 2 || len(f.Errors) != 0 {
		t.Errorf("Files() = %d errors, %d warnings (%s); want 0 and 2", len(f.Errors), len(f.Warnings), got)
	}
	rules := t.TempDir()
	if f := Files(load(t, t.TempDir(), 0o640, fmt.Sprintf("rules_dir: %q\nshadow: true\n", rules))); len(f.Warnings)+len(f.Errors) != 0 {
		t.Errorf("Files() with mode 0640 and a rules_dir = %v %v, want nothing", f.Errors, f.Warnings)
	}
}
