// Package preflight checks, for gatewayd check, what the configuration's
// own validation cannot see: a state directory the daemon could not create
// or write, secret files that others can read, a missing rules_dir; and,
// with --connect, every account, logged in to, with the folders it will
// use. Run it as the daemon's user: it sees what that user can do.
package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"gatewayd/internal/config"
)

// Findings are a check's problems: errors keep the daemon from starting
// (or from working), warnings do not.
type Findings struct {
	Errors, Warnings config.Errors
}

// Files checks the state directory, the secret files and rules_dir of cfg.
func Files(cfg *config.Config) Findings {
	var f Findings
	if err := writableDir(cfg.StateDir); err != nil {
		f.Errors = append(f.Errors, cfg.ErrorAt("state_dir", "state_dir %s: %v", cfg.StateDir, err))
	}
	f.Warnings = append(f.Warnings, secrets(cfg)...)
	if cfg.RulesDir == "" {
		f.Warnings = append(f.Warnings, cfg.ErrorAt("rules_dir",
			"no rules_dir: every well-formed mail will be accepted and given a number, and none will be answered"))
	}
	return f
}

// writableDir reports why the daemon could not write in dir, or create it.
func writableDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return creatable(dir)
	case err != nil:
		return err
	case !st.IsDir():
		return errors.New("not a directory")
	}
	if err := tryWrite(dir); err != nil {
		return fmt.Errorf("cannot write in it: %w", err)
	}
	db := filepath.Join(dir, "gatewayd.db")
	if f, err := os.OpenFile(db, os.O_RDWR, 0); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot open gatewayd.db for writing: %w", unwrapPath(err))
	}
	return nil
}

// creatable reports why dir could not be created: its nearest existing
// ancestor must be a directory the user can write in.
func creatable(dir string) error {
	parent := filepath.Dir(filepath.Clean(dir))
	for {
		st, err := os.Stat(parent)
		if err == nil && !st.IsDir() {
			return fmt.Errorf("does not exist, and %s is not a directory", parent)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) || parent == filepath.Dir(parent) {
			return fmt.Errorf("does not exist, and %s cannot be read: %w", parent, unwrapPath(err))
		}
		parent = filepath.Dir(parent)
	}
	if err := tryWrite(parent); err != nil {
		return fmt.Errorf("does not exist and cannot be created (%s: %v); under systemd, StateDirectory= creates it", parent, err)
	}
	return nil
}

// tryWrite creates and removes a file in dir.
func tryWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".gatewayd-check-*")
	if err != nil {
		return unwrapPath(err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// secrets warns of password files that others can read (each file once).
func secrets(cfg *config.Config) config.Errors {
	var out config.Errors
	seen := map[string]bool{}
	check := func(key, path string) {
		if path == "" || seen[path] {
			return
		}
		seen[path] = true
		st, err := os.Stat(path)
		if err != nil { // unreadable: the configuration's validation says so
			return
		}
		if mode := st.Mode().Perm(); mode&0o007 != 0 {
			out = append(out, cfg.ErrorAt(key, "password_file %s can be read by others (mode %04o): chmod o-rwx it (0640, owner root, group gatewayd)", path, mode))
		}
	}
	for i, m := range cfg.Mailboxes {
		check(fmt.Sprintf("mailboxes.%d.imap.password_file", i), m.IMAP.PasswordFile)
		if m.SMTP != nil {
			check(fmt.Sprintf("mailboxes.%d.smtp.password_file", i), m.SMTP.PasswordFile)
		}
	}
	return out
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
