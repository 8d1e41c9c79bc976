package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/panics"
	"gatewayd/internal/spool"
)

// chunkSize is how much of a literal is read at once; chunksInFlight
// bounds what the inspector may lag behind (memory: their product).
const (
	chunkSize      = 256 << 10
	chunksInFlight = 8
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// inspected is what the inspector learnt of one message's bytes.
type inspected struct {
	sha256  string
	facts   mailparse.Facts
	problem *mailparse.Problem
	err     error // the inspector panicked: the batch fails and is fetched again
}

// spoolAndInspect copies a literal into the segment and, on a second
// goroutine, hashes and parses the same bytes as they pass: the message is
// never read back. Past the limit (a server that sent more than it
// announced) the rest is drained and dropped and tooBig reported.
func spoolAndInspect(seg *spool.Segment, lit io.Reader, limit int64) (spool.Ref, inspected, bool, error) {
	chunks := make(chan *[]byte, chunksInFlight)
	result := make(chan inspected, 1)
	go inspectStream(chunks, result)
	w := seg.BeginUnhashed(limit)
	tooBig, err := copyChunks(w, lit, chunks)
	close(chunks)
	res := <-result
	if err == nil {
		err = res.err
	}
	if err != nil {
		return spool.Ref{}, res, false, err
	}
	ref := w.Close()
	ref.SHA256 = res.sha256
	return ref, res, tooBig, nil
}

// copyChunks reads lit into pooled chunks, writes each to w and hands it to
// the inspector, which returns it to the pool.
func copyChunks(w *spool.Writer, lit io.Reader, chunks chan<- *[]byte) (tooBig bool, err error) {
	for {
		bp := chunkPool.Get().(*[]byte)
		n, rerr := io.ReadFull(lit, *bp)
		if n > 0 && !tooBig {
			if _, werr := w.Write((*bp)[:n]); errors.Is(werr, spool.ErrTooLarge) {
				tooBig = true
			} else if werr != nil {
				chunkPool.Put(bp)
				return false, werr
			}
		}
		if n > 0 && !tooBig {
			b := (*bp)[:n]
			chunks <- &b
		} else {
			chunkPool.Put(bp)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return tooBig, nil
		}
		if rerr != nil {
			return false, fmt.Errorf("reading message body: %w", rerr)
		}
	}
}

// inspectStream hashes every byte sent on chunks and parses the message
// from them; it always drains chunks to the end, even after a panic (which
// it reports as the result's err).
func inspectStream(chunks <-chan *[]byte, result chan<- inspected) {
	defer func() {
		if v := recover(); v != nil {
			err := panics.Recovered(nil, "intake", "panic in the inspector", v)
			for range chunks { // the copier must not block
			}
			result <- inspected{err: err}
		}
	}()
	h := sha256.New()
	r := &chunkReader{chunks: chunks}
	tee := io.TeeReader(r, h)
	facts, problem := mailparse.Inspect(tee)
	io.Copy(io.Discard, tee) // the parser may stop early: hash the rest
	result <- inspected{sha256: hex.EncodeToString(h.Sum(nil)), facts: facts, problem: problem}
}

// chunkReader reads the chunks sent on a channel, until it is closed.
type chunkReader struct {
	chunks <-chan *[]byte
	cur    *[]byte
	off    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.cur == nil || r.off == len(*r.cur) {
		if r.cur != nil {
			full := (*r.cur)[:cap(*r.cur)]
			chunkPool.Put(&full)
			r.cur = nil
		}
		c, ok := <-r.chunks
		if !ok {
			return 0, io.EOF
		}
		r.cur, r.off = c, 0
	}
	n := copy(p, (*r.cur)[r.off:])
	r.off += n
	return n, nil
}
