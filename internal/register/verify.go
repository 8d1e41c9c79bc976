package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"gatewayd/internal/store"
)

// Verified is what a verification went through.
type Verified struct {
	Days         int
	From, To     time.Time
	Fingerprints int // stored messages hashed again
	Purged       int // registered messages whose bytes the retention removed
}

// BrokenError names the first day whose register does not hold.
type BrokenError struct {
	Day  time.Time
	What string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("daily register %s is broken: %s", e.Day.Format(time.DateOnly), e.What)
}

// Verify recomputes the hash chain of the daily registers from the first
// day on or after from (zero: all), and for each day checks the files
// against the fingerprints the store recorded when it produced them, the
// lines against the store's registrations, annulments and amendments as
// they are now, and every registered message's stored bytes against its
// fingerprint. It returns a *BrokenError naming the first broken day.
func Verify(ctx context.Context, rd *store.Reader, stateDir string, from time.Time) (Verified, error) {
	var v Verified
	days, err := rd.RegisterDays(ctx)
	if err != nil {
		return v, err
	}
	if len(days) > 0 {
		// Every live registration is in a daily register: none before the first.
		if r, ok, err := rd.FirstRegistrationBefore(ctx, days[0].Day); err != nil {
			return v, err
		} else if ok {
			return v, &BrokenError{Day: days[0].Day, What: fmt.Sprintf("registration %s of %s precedes the first daily register: it is in none",
				r.Label, r.At.Format(time.DateTime))}
		}
	}
	var prev *store.RegisterDay
	for i := range days {
		d := &days[i]
		if prev != nil && !d.Day.Equal(prev.Day.AddDate(0, 0, 1)) {
			return v, &BrokenError{Day: prev.Day.AddDate(0, 0, 1), What: "no daily register was recorded for this day: the chain has a gap"}
		}
		if d.Day.Before(from) {
			prev = d
			continue
		}
		n, purged, err := verifyDay(ctx, rd, stateDir, *d, prev)
		if err != nil {
			var b *BrokenError
			if errors.As(err, &b) {
				return v, err
			}
			return v, fmt.Errorf("verifying %s: %w", d.Day.Format(time.DateOnly), err)
		}
		if v.Days == 0 {
			v.From = d.Day
		}
		v.Days, v.To, v.Fingerprints, v.Purged = v.Days+1, d.Day, v.Fingerprints+n, v.Purged+purged
		prev = d
	}
	return v, nil
}

// verifyDay checks one day; prev is the day before it (nil: the first).
func verifyDay(ctx context.Context, rd *store.Reader, stateDir string, d store.RegisterDay, prev *store.RegisterDay) (int, int, error) {
	broken := func(format string, args ...any) error {
		return &BrokenError{Day: d.Day, What: fmt.Sprintf(format, args...)}
	}
	csvPath, jsonPath := Paths(stateDir, d.Day)
	jsonBytes, err := os.ReadFile(jsonPath)
	if err != nil {
		return 0, 0, broken("%v", err)
	}
	if got := hexSHA(jsonBytes); got != d.JSONSHA256 {
		return 0, 0, broken("%s was altered: its SHA-256 is %s, %s was recorded when it was produced", jsonPath, got, d.JSONSHA256)
	}
	var meta Meta
	if err := json.Unmarshal(jsonBytes, &meta); err != nil {
		return 0, 0, broken("%s: %v", jsonPath, err)
	}
	wantPrev, wantPrevDay := "", ""
	if prev != nil {
		wantPrev, wantPrevDay = prev.JSONSHA256, prev.Day.Format(time.DateOnly)
		_, prevJSON := Paths(stateDir, prev.Day)
		if b, err := os.ReadFile(prevJSON); err != nil || hexSHA(b) != prev.JSONSHA256 {
			return 0, 0, broken("the previous day's file %s is missing or altered: the chain breaks here", prevJSON)
		}
	}
	if meta.Day != d.Day.Format(time.DateOnly) || meta.PreviousSHA256 != wantPrev || meta.PreviousDay != wantPrevDay {
		return 0, 0, broken("%s does not chain to the previous day (previous %q %q, expected %q %q)", jsonPath,
			meta.PreviousDay, meta.PreviousSHA256, wantPrevDay, wantPrev)
	}
	csvBytes, err := os.ReadFile(csvPath)
	if err != nil {
		return 0, 0, broken("%v", err)
	}
	if got := hexSHA(csvBytes); got != meta.CSVSHA256 || got != d.CSVSHA256 {
		return 0, 0, broken("%s was altered: its SHA-256 is %s, the metadata say %s", csvPath, got, meta.CSVSHA256)
	}
	e, err := rd.RegisterEntries(ctx, d.Day)
	if err != nil {
		return 0, 0, err
	}
	if now := CSV(e); !bytes.Equal(now, csvBytes) {
		return 0, 0, broken("the store no longer holds what %s registered: %s", csvPath, firstDifference(csvBytes, now))
	}
	if meta.Count != len(e.Registrations) || d.Count != meta.Count {
		return 0, 0, broken("%d registrations in the file, %d in the metadata", len(e.Registrations), meta.Count)
	}
	n, purged := 0, 0
	for _, r := range e.Registrations {
		got, err := rd.Fingerprint(ctx, r.Message)
		if errors.Is(err, os.ErrNotExist) { // the nightly compaction moved it meanwhile: read its new place
			got, err = rd.Fingerprint(ctx, r.Message)
		}
		if errors.Is(err, store.ErrPurged) {
			// The retention removed the bytes; the fingerprint stays in the register.
			if ok, err := rd.PurgeRecorded(ctx, r.Message); err != nil || !ok {
				return 0, 0, broken("the message of %s is marked purged, but no purge was recorded: its bytes were removed behind the store's back", r.Label)
			}
			purged++
			continue
		}
		n++
		if err != nil {
			return 0, 0, broken("the message of %s cannot be read: %v", r.Label, err)
		}
		if got != r.SHA256 {
			return 0, 0, broken("the stored message of %s no longer matches its fingerprint (SHA-256 %s, registered %s)", r.Label, got, r.SHA256)
		}
	}
	return n, purged, nil
}

// firstDifference says which line of the file the store no longer matches.
func firstDifference(file, now []byte) string {
	a, b := bytes.Split(file, []byte("\n")), bytes.Split(now, []byte("\n"))
	for i := 0; i < max(len(a), len(b)); i++ {
		switch {
		case i >= len(a):
			return fmt.Sprintf("line %d is in the store, not in the file: %q", i+1, clipLine(b[i]))
		case i >= len(b):
			return fmt.Sprintf("line %d is in the file, no longer in the store: %q", i+1, clipLine(a[i]))
		case !bytes.Equal(a[i], b[i]):
			return fmt.Sprintf("line %d differs: file %q, store %q", i+1, clipLine(a[i]), clipLine(b[i]))
		}
	}
	return "no line differs"
}

func clipLine(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}
