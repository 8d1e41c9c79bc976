// Package spool keeps raw messages byte for byte in content-addressed files.
//
// A message is streamed into a temporary file while its SHA-256 is computed,
// then synced and renamed to <dir>/<sha[:2]>/<sha>. Files are written once and
// never rewritten, so the database only stores the hash. A file that a crash
// leaves without a database row is harmless: the same bytes fetched again
// land on the same name.
package spool

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// ErrTooLarge is returned by Writer.Write once more than the cap was written.
var ErrTooLarge = errors.New("message over the size cap")

// Spool is a directory of content-addressed message files.
type Spool struct {
	dir string
}

// Open creates the spool directory when missing and returns it.
func Open(dir string) (*Spool, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("creating spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Path returns the file name of the message with the given hex SHA-256.
func (s *Spool) Path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum)
}

// Open opens the stored message with the given hex SHA-256.
func (s *Spool) Open(sum string) (*os.File, error) {
	if len(sum) < 3 {
		return nil, fmt.Errorf("invalid spool key %q", sum)
	}
	return os.Open(s.Path(sum))
}

// Create starts a new message file that accepts at most limit bytes
// (0: no limit).
func (s *Spool) Create(limit int64) (*Writer, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "msg-*")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	return &Writer{s: s, f: f, h: sha256.New(), limit: limit}, nil
}

// Writer streams one message into the spool.
type Writer struct {
	s     *Spool
	f     *os.File
	h     hash.Hash
	n     int64
	limit int64
}

// Write appends p to the message; past the cap it fails with ErrTooLarge.
func (w *Writer) Write(p []byte) (int, error) {
	if w.limit > 0 && w.n+int64(len(p)) > w.limit {
		return 0, ErrTooLarge
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Size returns the number of bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Name returns the temporary file's name, readable before Commit.
func (w *Writer) Name() string { return w.f.Name() }

// Abort discards the message.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Ref names a message stored in the spool.
type Ref struct {
	SHA256 string
	Size   int64
}

// Close ends writing and returns the message's reference. The file is not
// yet durable nor at its final name: pass it to Commit.
func (w *Writer) Close() (*Pending, error) {
	sum := hex.EncodeToString(w.h.Sum(nil))
	return &Pending{s: w.s, f: w.f, Ref: Ref{SHA256: sum, Size: w.n}}, nil
}

// Pending is a written message waiting to be made durable.
type Pending struct {
	Ref
	s *Spool
	f *os.File
}

// TempName returns the file's current name, readable until Commit.
func (p *Pending) TempName() string { return p.f.Name() }

// Discard removes the pending file.
func (p *Pending) Discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// Commit makes every pending file durable at its final name: each file is
// synced (in parallel, as fsync waits on the disk, not the CPU), renamed, and
// each directory touched is synced once. Only after Commit returns may the
// database refer to the files.
func (s *Spool) Commit(pending []*Pending) error {
	if err := parallel(len(pending), func(i int) error {
		p := pending[i]
		if err := p.f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", p.f.Name(), err)
		}
		return p.f.Close()
	}); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, p := range pending {
		dir := filepath.Join(s.dir, p.SHA256[:2])
		if !dirs[dir] {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("creating spool dir: %w", err)
			}
			dirs[dir] = true
		}
		if err := os.Rename(p.f.Name(), s.Path(p.SHA256)); err != nil {
			return fmt.Errorf("renaming spool file: %w", err)
		}
	}
	names := make([]string, 0, len(dirs)+1)
	for d := range dirs {
		names = append(names, d)
	}
	names = append(names, s.dir)
	return parallel(len(names), func(i int) error { return syncDir(names[i]) })
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// parallel runs f(0..n-1) on up to 16 goroutines and returns the first error.
func parallel(n int, f func(int) error) error {
	const workers = 16
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// Copy writes the whole of r into a new spool message with the given cap.
func (s *Spool) Copy(r io.Reader, limit int64) (*Pending, error) {
	w, err := s.Create(limit)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return nil, err
	}
	return w.Close()
}

// CleanTemp removes files a crashed process left in the temporary
// directory. Call it only while holding the state directory's lock.
func (s *Spool) CleanTemp() error {
	tmp := filepath.Join(s.dir, "tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("reading spool tmp: %w", err)
	}
	for _, e := range entries {
		os.Remove(filepath.Join(tmp, e.Name()))
	}
	return nil
}
