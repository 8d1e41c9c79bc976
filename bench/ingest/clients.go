package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/spool"
)

// keeper is what a minimal client does with the bodies it fetches: with
// each body, and with each batch before it is moved (nil: nothing).
type keeper struct {
	body  func(io.Reader) error
	batch func() error
}

// discard reads each body and drops it.
var discard = keeper{body: func(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}}

// hashing computes each body's SHA-256, as gatewayd must.
var hashing = keeper{body: func(r io.Reader) error {
	h := sha256.New()
	_, err := io.Copy(h, r)
	h.Sum(nil)
	return err
}}

// spooling writes each batch into a segment of sp (hashing each body as it
// is written), synced before the batch is moved, as gatewayd must.
func spooling(sp *spool.Spool) keeper {
	var seg *spool.Segment
	return keeper{
		body: func(r io.Reader) error {
			if seg == nil {
				var err error
				if seg, err = sp.NewSegment(time.Now()); err != nil {
					return err
				}
			}
			w := seg.Begin(0)
			_, err := io.Copy(w, r)
			w.Close()
			return err
		},
		batch: func() error {
			if seg == nil {
				return nil
			}
			defer func() { seg.Close(); seg = nil }()
			return seg.Commit()
		},
	}
}

// rawFetch UID FETCHes every body of folder in batches of 100 and
// discards it, timed from the selected folder.
func rawFetch(c *imapclient.Client, folder string, uids []imap.UID) (float64, error) {
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, fmt.Errorf("selecting %q: %w", folder, err)
	}
	start := time.Now()
	for batch := range slices.Chunk(uids, 100) {
		if err := fetchBodies(c, batch, discard); err != nil {
			return 0, err
		}
	}
	rate := float64(len(uids)) / time.Since(start).Seconds()
	return rate, c.Unselect().Wait()
}

// fetchMove, with discard, is the least the gateway must ask of the
// server: it UID FETCHes every body of folder in batches of batch and UID
// MOVEs each batch to dest once read (and kept by k), timed from the
// selected folder. Nothing is parsed or recorded.
func fetchMove(c *imapclient.Client, folder, dest string, uids []imap.UID, batch int, k keeper) (float64, error) {
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		return 0, fmt.Errorf("selecting %q: %w", folder, err)
	}
	start := time.Now()
	for b := range slices.Chunk(uids, batch) {
		if err := fetchBodies(c, b, k); err != nil {
			return 0, err
		}
		if k.batch != nil {
			if err := k.batch(); err != nil {
				return 0, err
			}
		}
		if _, err := c.Move(uidSet(b), dest).Wait(); err != nil {
			return 0, fmt.Errorf("moving to %q: %w", dest, err)
		}
	}
	rate := float64(len(uids)) / time.Since(start).Seconds()
	data, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return 0, fmt.Errorf("selecting %q: %w", folder, err)
	}
	if data.NumMessages != 0 {
		return 0, fmt.Errorf("fetch and move left %d messages in %q", data.NumMessages, folder)
	}
	return rate, c.Unselect().Wait()
}

// fetchBodies fetches the bodies of uids (BODY.PEEK[]), hands each to k
// and checks that each came.
func fetchBodies(c *imapclient.Client, uids []imap.UID, k keeper) error {
	cmd := c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	got := 0
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if b, ok := item.(imapclient.FetchItemDataBodySection); ok {
				if err := k.body(b.Literal); err != nil {
					cmd.Close()
					return fmt.Errorf("reading a body: %w", err)
				}
				got++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetching bodies: %w", err)
	}
	if got != len(uids) {
		return fmt.Errorf("fetch read %d bodies, want %d", got, len(uids))
	}
	return nil
}

func uidSet(uids []imap.UID) imap.UIDSet {
	var set imap.UIDSet
	set.AddNum(uids...)
	return set
}
