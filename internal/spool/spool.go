// Package spool keeps raw messages byte for byte in append-only segment
// files, one per intake batch (as Dovecot's mdbox keeps several messages per
// file): the batch's messages are streamed into the segment while each one's
// SHA-256 is computed, and the segment is synced once, before the database
// transaction that refers to it. A message is named by a Ref: segment,
// offset, size and hash.
//
// Many small files cost far more than one large file on ext4 (see
// README's benchmark); a segment is written once and never rewritten.
package spool

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// ErrTooLarge is returned by Writer.Write once more than the cap was written.
var ErrTooLarge = errors.New("message over the size cap")

// Spool is a directory of segment files.
type Spool struct {
	dir string
	seq atomic.Int64
}

// Open creates the spool directory when missing and returns it.
func Open(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Ref names one message in the spool.
type Ref struct {
	Segment string // relative to the spool directory, e.g. 2026-11/1763790000000000000-1.seg
	Offset  int64
	Size    int64
	SHA256  string // hex
}

// Open opens a stored message for reading.
func (s *Spool) Open(r Ref) (*Reader, error) {
	f, err := os.Open(s.path(r.Segment))
	if err != nil {
		return nil, fmt.Errorf("opening spool segment: %w", err)
	}
	return &Reader{SectionReader: io.NewSectionReader(f, r.Offset, r.Size), f: f}, nil
}

// Reader reads one stored message.
type Reader struct {
	*io.SectionReader
	f *os.File
}

// Close closes the segment file.
func (r *Reader) Close() error { return r.f.Close() }

func (s *Spool) path(segment string) string {
	return filepath.Join(s.dir, filepath.FromSlash(segment))
}

// Segments lists every segment file present, relative to the spool.
func (s *Spool) Segments() ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".seg") {
			rel, _ := filepath.Rel(s.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

// Remove deletes a segment (one no database row refers to).
func (s *Spool) Remove(segment string) error { return os.Remove(s.path(segment)) }

// NewSegment starts a segment file for one batch.
func (s *Spool) NewSegment(now time.Time) (*Segment, error) {
	month := now.UTC().Format("2006-01")
	if err := os.MkdirAll(filepath.Join(s.dir, month), 0o750); err != nil {
		return nil, fmt.Errorf("creating spool dir: %w", err)
	}
	name := fmt.Sprintf("%s/%d-%d-%d.seg", month, now.UnixNano(), os.Getpid(), s.seq.Add(1))
	f, err := os.OpenFile(s.path(name), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("creating spool segment: %w", err)
	}
	return &Segment{s: s, Name: name, f: f, bw: bufio.NewWriterSize(f, 1<<20)}, nil
}

// Segment is a batch's file, written one message at a time.
type Segment struct {
	Name string
	s    *Spool
	f    *os.File
	bw   *bufio.Writer
	off  int64
}

// Begin starts the next message, accepting at most limit bytes (0: no limit).
func (g *Segment) Begin(limit int64) *Writer {
	return &Writer{g: g, start: g.off, h: sha256.New(), limit: limit}
}

// Writer streams one message into its segment.
type Writer struct {
	g     *Segment
	start int64
	n     int64
	h     hash.Hash
	limit int64
}

// Write appends p to the message; past the cap it fails with ErrTooLarge.
func (w *Writer) Write(p []byte) (int, error) {
	if w.limit > 0 && w.n+int64(len(p)) > w.limit {
		return 0, ErrTooLarge
	}
	n, err := w.g.bw.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	w.g.off += int64(n)
	return n, err
}

// Close ends the message and returns its reference.
func (w *Writer) Close() Ref {
	return Ref{Segment: w.g.Name, Offset: w.start, Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil))}
}

// Section returns a reader of a message written to this segment, before
// or after Commit.
func (g *Segment) Section(r Ref) (io.ReadSeeker, error) {
	if err := g.bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing spool segment: %w", err)
	}
	return io.NewSectionReader(g.f, r.Offset, r.Size), nil
}

// Commit makes the segment durable: data synced, then its directory (so
// the name survives a power loss). Only then may the database refer to it.
func (g *Segment) Commit() error {
	if err := g.bw.Flush(); err != nil {
		return fmt.Errorf("writing spool segment: %w", err)
	}
	if err := g.f.Sync(); err != nil {
		return fmt.Errorf("syncing spool segment: %w", err)
	}
	return syncDir(filepath.Dir(g.s.path(g.Name)))
}

// Size returns the bytes written so far.
func (g *Segment) Size() int64 { return g.off }

// Close closes the file; a segment no committed row refers to is removed
// at the next start.
func (g *Segment) Close() error { return g.f.Close() }

// Discard closes and removes the segment.
func (g *Segment) Discard() {
	g.f.Close()
	os.Remove(g.s.path(g.Name))
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

// Copy writes one whole message into a new committed segment (for tools
// and tests; intake writes batches).
func (s *Spool) Copy(r io.Reader, now time.Time) (Ref, error) {
	g, err := s.NewSegment(now)
	if err != nil {
		return Ref{}, err
	}
	defer g.Close()
	w := g.Begin(0)
	if _, err := io.Copy(w, r); err != nil {
		g.Discard()
		return Ref{}, err
	}
	ref := w.Close()
	if err := g.Commit(); err != nil {
		g.Discard()
		return Ref{}, err
	}
	return ref, nil
}
