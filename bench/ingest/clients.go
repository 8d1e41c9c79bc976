package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// rawFetch UID FETCHes every body of folder in batches of 100 and
// discards it, timed from the selected folder.
func rawFetch(c *imapclient.Client, folder string, uids []imap.UID) (float64, error) {
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, fmt.Errorf("selecting %q: %w", folder, err)
	}
	start := time.Now()
	for batch := range slices.Chunk(uids, 100) {
		if err := fetchBodies(c, batch); err != nil {
			return 0, err
		}
	}
	rate := float64(len(uids)) / time.Since(start).Seconds()
	return rate, c.Unselect().Wait()
}

// fetchMove is the least the gateway must ask of the server: it UID
// FETCHes every body of folder in batches of batch and UID MOVEs each
// batch to dest once read, timed from the selected folder. Nothing is
// stored or parsed.
func fetchMove(c *imapclient.Client, folder, dest string, uids []imap.UID, batch int) (float64, error) {
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		return 0, fmt.Errorf("selecting %q: %w", folder, err)
	}
	start := time.Now()
	for b := range slices.Chunk(uids, batch) {
		if err := fetchBodies(c, b); err != nil {
			return 0, err
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

// fetchBodies fetches the bodies of uids (BODY.PEEK[]) and discards
// them, checking that each came.
func fetchBodies(c *imapclient.Client, uids []imap.UID) error {
	cmd := c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	got := 0
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if b, ok := item.(imapclient.FetchItemDataBodySection); ok {
				if _, err := io.Copy(io.Discard, b.Literal); err != nil {
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
