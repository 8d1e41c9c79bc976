package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tighten makes the state directory 0700 and the files with personal data
// in it 0600, whatever the umask they were created under: the database
// (created here first, so SQLite's -wal and -shm files take its mode), the
// spool's segments and the daily registers.
func tighten(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restricting state dir: %w", err)
	}
	db := filepath.Join(dir, "gatewayd.db")
	f, err := os.OpenFile(db, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("creating database: %w", err)
	}
	f.Close()
	for _, name := range []string{db, db + "-wal", db + "-shm", filepath.Join(dir, "gatewayd.lock")} {
		if err := os.Chmod(name, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restricting %s: %w", name, err)
		}
	}
	for _, sub := range []string{"spool", "registro"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			mode := fs.FileMode(0o600)
			if d.IsDir() {
				mode = 0o700
			}
			if info, err := d.Info(); err == nil && info.Mode().Perm()&^mode != 0 {
				return os.Chmod(path, mode)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restricting %s: %w", sub, err)
		}
	}
	return nil
}
