package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
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

// fetchSpoolMove is gatewayd's pipeline without its parser and its store:
// a goroutine fetches each batch into a spool segment of its own, hashing
// every body, while this one syncs the previous batch's segment and moves
// that batch, as gatewayd's committer does. It is the least any gateway
// that keeps each message durably before moving it must do, overlapped as
// gatewayd overlaps it: what gatewayd's rate can at best approach here.
func fetchSpoolMove(c *imapclient.Client, folder, dest string, uids []imap.UID, batch int, sp *spool.Spool) (float64, error) {
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		return 0, fmt.Errorf("selecting %q: %w", folder, err)
	}
	type fetched struct {
		seg  *spool.Segment
		uids []imap.UID
	}
	batches := make(chan fetched, 1)
	fetchErr := make(chan error, 1)
	start := time.Now()
	go func() {
		defer close(batches)
		for b := range slices.Chunk(uids, batch) {
			seg, err := sp.NewSegment(time.Now())
			if err != nil {
				fetchErr <- err
				return
			}
			k := keeper{body: func(r io.Reader) error {
				w := seg.Begin(0)
				_, err := io.Copy(w, r)
				w.Close()
				return err
			}}
			t0 := time.Now()
			if err := fetchBodies(c, b, k); err != nil {
				seg.Discard()
				fetchErr <- err
				return
			}
			if err := seg.Finish(); err != nil {
				seg.Discard()
				fetchErr <- err
				return
			}
			t1 := time.Now()
			batches <- fetched{seg, b}
			if os.Getenv("BENCH_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "fetch %v (finish %v) handed after %v\n", t1.Sub(t0).Round(time.Millisecond), 0, time.Since(t1).Round(time.Millisecond))
			}
		}
		fetchErr <- nil
	}()
	var err error
	for f := range batches {
		t0 := time.Now()
		if err == nil {
			err = f.seg.Commit()
		}
		t1 := time.Now()
		if err == nil {
			if _, err = c.Move(uidSet(f.uids), dest).Wait(); err != nil {
				err = fmt.Errorf("moving to %q: %w", dest, err)
			}
		}
		if os.Getenv("BENCH_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "  commit %v move %v\n", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
		}
		f.seg.Close()
	}
	if ferr := <-fetchErr; err == nil {
		err = ferr
	}
	if err != nil {
		return 0, err
	}
	return float64(len(uids)) / time.Since(start).Seconds(), c.Unselect().Wait()
}
