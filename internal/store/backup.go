package store

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gatewayd/internal/durable"

	"github.com/mattn/go-sqlite3"
)

// BackupInfo is a backup's manifest (MANIFEST.json, the archive's last
// member): what it holds and each file's SHA-256.
type BackupInfo struct {
	CreatedAt time.Time         `json:"created_at"`
	Files     map[string]string `json:"files"` // archive path → SHA-256
	Messages  int               `json:"messages"`
}

// Backup writes a consistent copy of stateDir beside the running daemon
// as a tar archive: the database through SQLite's online backup API, then
// the spool segments and daily register files that copy names (segments
// are immutable once named; the daily registers too).
func Backup(ctx context.Context, stateDir string, w io.Writer) (BackupInfo, error) {
	info := BackupInfo{CreatedAt: time.Now().UTC(), Files: map[string]string{}}
	tmp, err := os.MkdirTemp(stateDir, ".backup-")
	if err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, "gatewayd.db")
	if err := snapshot(ctx, stateDir, copyPath); err != nil {
		return info, err
	}
	db, err := sql.Open("sqlite3", "file:"+copyPath+"?mode=ro")
	if err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	var files []string
	for _, q := range []string{`SELECT 'spool/' || name FROM spool_segments WHERE name != '' ORDER BY name`,
		`SELECT 'registro/' || substr(day, 1, 4) || '/' || day || ext FROM register_days, (SELECT '.csv' AS ext UNION ALL SELECT '.json') ORDER BY day, ext`} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return info, fmt.Errorf("backup: listing files: %w", err)
		}
		for rows.Next() {
			var f string
			rows.Scan(&f)
			files = append(files, f)
		}
		rows.Close()
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&info.Messages); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	tw := tar.NewWriter(w)
	if err := addFile(tw, copyPath, "gatewayd.db", info.Files); err != nil {
		return info, err
	}
	for _, f := range files {
		if err := addFile(tw, filepath.Join(stateDir, filepath.FromSlash(f)), f, info.Files); err != nil {
			return info, err
		}
	}
	manifest, _ := json.MarshalIndent(info, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: "MANIFEST.json", Mode: 0o600, Size: int64(len(manifest)), ModTime: info.CreatedAt}); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	return info, nil
}

// snapshot copies the live database into dst with the online backup API.
func snapshot(ctx context.Context, stateDir, dst string) error {
	src, err := openUnlocked(stateDir, "mode=ro&_busy_timeout=15000")
	if err != nil {
		return err
	}
	defer src.Close()
	dstDB, err := sql.Open("sqlite3", "file:"+dst)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer dstDB.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer sc.Close()
	dc, err := dstDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer dc.Close()
	return dc.Raw(func(d any) error {
		return sc.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if _, err := b.Step(-1); err != nil {
				b.Finish()
				return fmt.Errorf("backup: copying the database: %w", err)
			}
			return b.Finish()
		})
	})
}

// addFile adds one file to the archive, recording its SHA-256.
func addFile(tw *tar.Writer, path, name string, sums map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w (was it removed by the nightly retention? run the backup again)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tw, h), f); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	sums[name] = hex.EncodeToString(h.Sum(nil))
	return nil
}

// maxMember bounds one archive member (a spool segment is at most a
// batch: 256 MB).
const maxMember = 4 << 30

// HeldRestoredReason is the reason of every mail a restore holds (those
// queued in the backup, the deadline mails due by the restore): it holds
// "restored", which `outbox release --held --reason restored` matches.
func HeldRestoredReason(what string) string {
	return "restored: " + what + ", it may have been sent already; check, then outbox release --held --reason restored"
}

// Restore unpacks a backup into stateDir, which must not hold a store,
// all or nothing: the archive is unpacked beside it, every member checked
// against the manifest (no more, no fewer), the store opened there (its
// migrations applied) and its queue held (HoldRestored); only then is the
// directory renamed into place.
func Restore(r io.Reader, stateDir string) (BackupInfo, int, error) {
	var info BackupInfo
	if _, err := os.Stat(filepath.Join(stateDir, "gatewayd.db")); err == nil {
		return info, 0, fmt.Errorf("restore: %s already holds a store: move it away first", stateDir)
	}
	parent := filepath.Dir(filepath.Clean(stateDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return info, 0, fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(stateDir)+".restore-")
	if err != nil {
		return info, 0, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp) // gone once renamed; removed on any failure
	if info, err = unpack(r, tmp); err != nil {
		return info, 0, err
	}
	st, err := Open(context.Background(), Options{StateDir: tmp})
	if err != nil {
		return info, 0, fmt.Errorf("restore: opening the restored store: %w", err)
	}
	held, err := st.HoldRestored(context.Background(), info.CreatedAt)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return info, 0, err
	}
	os.Remove(filepath.Join(tmp, "gatewayd.lock"))
	if err := os.Remove(stateDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return info, 0, fmt.Errorf("restore: %s must be empty or absent: %w", stateDir, err)
	}
	if err := os.Rename(tmp, stateDir); err != nil {
		return info, 0, fmt.Errorf("restore: %w", err)
	}
	return info, held, durable.SyncDir(parent)
}

// unpack writes the archive's members under dir, checked against its manifest.
func unpack(r io.Reader, dir string) (BackupInfo, error) {
	var info BackupInfo
	sums := map[string]string{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, fmt.Errorf("restore: reading the archive: %w", err)
		}
		name := filepath.Clean(filepath.FromSlash(hdr.Name))
		if hdr.Name == "MANIFEST.json" {
			if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(&info); err != nil {
				return info, fmt.Errorf("restore: the manifest: %w", err)
			}
			continue
		}
		if !(name == "gatewayd.db" || strings.HasPrefix(name, "spool"+string(filepath.Separator)) || strings.HasPrefix(name, "registro"+string(filepath.Separator))) ||
			strings.Contains(name, "..") || hdr.Typeflag != tar.TypeReg || hdr.Size > maxMember || sums[hdr.Name] != "" {
			return info, fmt.Errorf("restore: unexpected member %q: not a gatewayd backup", hdr.Name)
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return info, fmt.Errorf("restore: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return info, fmt.Errorf("restore: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(tr, maxMember))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return info, fmt.Errorf("restore: %s: %w", hdr.Name, err)
		}
		sums[hdr.Name] = hex.EncodeToString(h.Sum(nil))
	}
	if len(info.Files) == 0 {
		return info, fmt.Errorf("restore: no manifest: not a gatewayd backup, or cut short")
	}
	for name, want := range info.Files {
		if sums[name] != want {
			return info, fmt.Errorf("restore: %s does not match the manifest (SHA-256 %q, want %s): the archive is damaged", name, sums[name], want)
		}
	}
	for name := range sums {
		if _, ok := info.Files[name]; !ok {
			return info, fmt.Errorf("restore: %s is not in the manifest: not this backup's", name)
		}
	}
	return info, nil
}

// HoldRestored holds every mail that was queued when the backup was
// taken: it may have gone out since, and an answer is never sent twice
// without an operator deciding it (outbox release --held). It returns how
// many it held.
func (s *Store) HoldRestored(ctx context.Context, taken time.Time) (int, error) {
	n := 0
	err := s.Update(ctx, func(ctx context.Context, t *Tx) error {
		res, err := t.tx.ExecContext(ctx, `UPDATE outbox SET state = 'held', reason = ? WHERE state = 'queued'`,
			HeldRestoredReason("queued in the backup of "+taken.Format(time.RFC3339)))
		if err != nil {
			return fmt.Errorf("holding the restored queue: %w", err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('restored_at', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, ts(t.now), ts(t.now)); err != nil {
			return fmt.Errorf("recording the restore: %w", err)
		}
		return addEvents(ctx, t.tx, t.now, 0, "", event{"restored", map[string]any{"backup": ts(taken), "held": n}})
	})
	return n, err
}
