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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gatewayd/internal/durable"
	"gatewayd/internal/panics"
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
	if err := os.MkdirAll(dir, 0o700); err != nil {
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
	if r.Segment == "" {
		return nil, fmt.Errorf("the message's bytes were removed (retention)")
	}
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

// Path is a segment's file.
func (s *Spool) Path(segment string) string { return s.path(segment) }

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
	if err := os.MkdirAll(filepath.Join(s.dir, month), 0o700); err != nil {
		return nil, fmt.Errorf("creating spool dir: %w", err)
	}
	name := fmt.Sprintf("%s/%d-%d-%d.seg", month, now.UnixNano(), os.Getpid(), s.seq.Add(1))
	f, direct, err := createDirect(s.path(name))
	if err != nil {
		return nil, fmt.Errorf("creating spool segment: %w", err)
	}
	g := &Segment{s: s, Name: name, f: f, direct: direct,
		free: make(chan []byte, 2), full: make(chan []byte, 2), done: make(chan error, 1)}
	g.free <- bufferPool.Get().([]byte)
	g.free <- bufferPool.Get().([]byte)
	go g.writer()
	return g, nil
}

// bufferPool holds aligned write buffers.
var bufferPool = sync.Pool{New: func() any { return alignedBuffer(segmentBuffer) }}

// writer writes the full buffers it is handed, in order, so that the
// device works while the next buffer is being filled.
func (g *Segment) writer() {
	var err error
	for b := range g.full {
		if err == nil {
			err = g.writeBuffer(b)
		}
		g.free <- b[:cap(b)]
	}
	g.done <- err
}

// writeBuffer writes one buffer; a panic is the segment's error, so the
// writer goes on handing buffers back and the batch fails cleanly.
func (g *Segment) writeBuffer(b []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("writing spool segment: %w", panics.Recovered(nil, "spool", "panic in the segment writer", v))
		}
	}()
	if _, err := g.f.Write(b); err != nil {
		return fmt.Errorf("writing spool segment: %w", err)
	}
	return nil
}

// Segment is a batch's file, written one message at a time. Writes go
// through an aligned buffer in whole blocks with O_DIRECT where the file
// system allows it: the bytes are not read back while the batch is handled,
// so the page cache would only cost (see README, benchmark).
type Segment struct {
	Name   string
	s      *Spool
	f      *os.File // written
	r      *os.File // read, once finished
	direct bool
	buf    []byte      // being filled; nil until taken from free
	n      int         // bytes in buf
	off    int64       // bytes of messages written (the file's final size)
	free   chan []byte // empty buffers
	full   chan []byte // buffers for the writer goroutine
	done   chan error  // the writer's result, once full is closed
	closed bool        // full is closed
	err    error
}

// Begin starts the next message, accepting at most limit bytes (0: no
// limit). The writer computes the message's SHA-256.
func (g *Segment) Begin(limit int64) *Writer {
	return &Writer{g: g, start: g.off, h: sha256.New(), limit: limit}
}

// BeginUnhashed is Begin for a caller that hashes the bytes itself.
func (g *Segment) BeginUnhashed(limit int64) *Writer {
	return &Writer{g: g, start: g.off, limit: limit}
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
	if err := w.g.write(p); err != nil {
		return 0, err
	}
	if w.h != nil {
		w.h.Write(p)
	}
	w.n += int64(len(p))
	return len(p), nil
}

// Close ends the message and returns its reference (SHA256 empty when
// unhashed).
func (w *Writer) Close() Ref {
	r := Ref{Segment: w.g.Name, Offset: w.start, Size: w.n}
	if w.h != nil {
		r.SHA256 = hex.EncodeToString(w.h.Sum(nil))
	}
	return r
}

func (g *Segment) write(p []byte) error {
	for len(p) > 0 {
		if g.buf == nil {
			g.buf = <-g.free
		}
		c := copy(g.buf[g.n:], p)
		g.n += c
		g.off += int64(c)
		p = p[c:]
		if g.n == len(g.buf) {
			g.full <- g.buf
			g.buf, g.n = nil, 0
		}
	}
	return nil
}

// Finish writes what is buffered, waits for the writer, and opens the
// segment for reading. It is called once the batch's last message is in.
func (g *Segment) Finish() error {
	if g.closed {
		return g.err
	}
	if g.buf != nil && g.n > 0 {
		tail := g.n
		if g.direct && tail%blockSize != 0 {
			tail += blockSize - tail%blockSize // padded to a block, cut back below
			clear(g.buf[g.n:tail])
		}
		g.full <- g.buf[:tail]
	} else if g.buf != nil {
		g.free <- g.buf
	}
	g.buf, g.n = nil, 0
	close(g.full)
	g.closed = true
	g.err = <-g.done
	for range 2 {
		bufferPool.Put(<-g.free)
	}
	if g.err == nil && g.direct {
		if err := g.f.Truncate(g.off); err != nil {
			g.err = fmt.Errorf("sizing spool segment: %w", err)
		}
	}
	if g.err != nil {
		return g.err
	}
	r, err := os.Open(g.f.Name())
	if err != nil {
		g.err = fmt.Errorf("reopening spool segment: %w", err)
		return g.err
	}
	g.r = r
	return nil
}

// Section returns a reader of a message of this segment, once finished.
func (g *Segment) Section(r Ref) (io.ReadSeeker, error) {
	if err := g.Finish(); err != nil {
		return nil, err
	}
	return io.NewSectionReader(g.r, r.Offset, r.Size), nil
}

// Commit makes the segment durable: data and size synced, then its
// directory (so the name survives a power loss). Only then may the
// database refer to it.
func (g *Segment) Commit() error {
	if err := g.Finish(); err != nil {
		return err
	}
	if err := g.f.Sync(); err != nil {
		return fmt.Errorf("syncing spool segment: %w", err)
	}
	return durable.SyncDir(filepath.Dir(g.s.path(g.Name)))
}

// Size returns the bytes written so far.
func (g *Segment) Size() int64 { return g.off }

// Close closes the files; a segment no committed row refers to is
// removed at the next start.
func (g *Segment) Close() error {
	g.Finish()
	if g.r != nil {
		g.r.Close()
	}
	return g.f.Close()
}

// Discard closes and removes the segment.
func (g *Segment) Discard() {
	g.Close()
	os.Remove(g.s.path(g.Name))
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
