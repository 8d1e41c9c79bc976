package intake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/panics"
	"gatewayd/internal/spool"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// sync finishes moves a crash left pending, then brings in every new
// message, batch by batch, until the folder holds none unrecorded.
func (s *session) sync(ctx context.Context) error {
	if err := s.movePending(ctx); err != nil {
		return err
	}
	var prev struct { // the last round's last UID and first message listed
		last  uint32
		first imap.UID
	}
	listed := false
	for {
		st, err := s.w.Store.MailboxState(ctx, s.w.Mailbox.Name)
		if err != nil {
			return err
		}
		news, err := s.listNew(st.LastUID)
		if err != nil {
			return err
		}
		if len(news) == 0 {
			return nil
		}
		if listed && st.LastUID == prev.last && news[0].uid == prev.first { // nothing recorded, the same message listed again
			return fmt.Errorf("the server lists UID %d again but neither returns nor finds it: tried again after the backoff", news[0].uid)
		}
		prev.last, prev.first, listed = st.LastUID, news[0].uid, true
		if err := s.ingestAll(ctx, news); err != nil {
			return err
		}
	}
}

// fetched is a batch read into its own spool segment, not yet committed.
type fetched struct {
	seg     *spool.Segment
	items   []*item
	missing []imap.UID // listed but not returned: the batch ends before the first
	took    time.Duration
}

// ingestAll brings in the messages batch by batch, in UID order, fetching
// the next batch (network, spool writes) while this goroutine inspects,
// commits and moves the previous one (CPU, fsync, SQL). The fetcher lives
// only as long as this call; a failure on either side stops both, and a
// batch fetched but not committed is discarded.
func (s *session) ingestAll(ctx context.Context, news []newMsg) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan fetched, 1)
	var fetchErr error
	go func() {
		defer close(batches)
		for batch := range cutBatches(news, s.w.Mailbox.BatchSize, maxBatchBytes) {
			if ctx.Err() != nil {
				return // the committer failed or we are stopping
			}
			f, err := s.guardedFetch(batch)
			if err != nil {
				fetchErr = err
				return
			}
			select {
			case batches <- f:
			case <-ctx.Done():
				f.seg.Discard()
				return
			}
			if len(f.missing) > 0 { // nothing past the gap, or the last UID would pass it
				fetchErr = errMissing(f.missing)
				return
			}
		}
	}()
	var err error
	var idle time.Duration
	t := time.Now()
	for f := range batches {
		idle += time.Since(t)
		if err == nil {
			if err = s.commitBatch(ctx, f); err != nil {
				cancel()
			}
		} else {
			f.seg.Discard()
		}
		t = time.Now()
	}
	s.log.Debug("ingest round done", "messages", len(news), "committer_waiting", idle)
	if err != nil {
		return err
	}
	return fetchErr // read after the channel closed: the fetcher is done
}

// maxBatchBytes bounds a batch's bytes (one transaction, one segment).
const maxBatchBytes = 256 << 20

// cutBatches cuts the messages into runs of at most n messages and about
// maxBytes (a message larger than that is a batch of its own).
func cutBatches(news []newMsg, n int, maxBytes int64) iter.Seq[[]newMsg] {
	return func(yield func([]newMsg) bool) {
		start, bytes := 0, int64(0)
		for i, m := range news {
			if i > start && (i-start == n || bytes+m.size > maxBytes) {
				if !yield(news[start:i]) {
					return
				}
				start, bytes = i, 0
			}
			bytes += m.size
		}
		if start < len(news) {
			yield(news[start:])
		}
	}
}

// fetchOne reads a batch into a new segment.
// guardedFetch is fetchOne on the fetcher goroutine: a panic there ends
// the session with an error (retried with backoff), not the process.
func (s *session) guardedFetch(batch []newMsg) (f fetched, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panics.Recovered(s.log, "intake", "panic in the fetcher", v)
		}
	}()
	return s.fetchOne(batch)
}

func (s *session) fetchOne(batch []newMsg) (fetched, error) {
	t0 := time.Now()
	seg, err := s.w.Store.Spool().NewSegment(t0)
	if err != nil {
		return fetched{}, err
	}
	items, missing, err := s.fetchBatch(seg, batch)
	if err == nil {
		err = seg.Finish()
	}
	if err != nil {
		seg.Discard()
		return fetched{}, err
	}
	if len(missing) > 0 {
		if items, missing, err = s.cutAtGap(items, missing); err != nil {
			seg.Discard()
			return fetched{}, err
		}
	}
	return fetched{seg: seg, items: items, missing: missing, took: time.Since(t0)}, nil
}

// errMissing is a round cut short by messages listed but not returned.
func errMissing(uids []imap.UID) error {
	return fmt.Errorf("%d messages in the folder were not returned by the server (first UID %d): tried again after the backoff; "+
		"the mail after it waits — if the server never returns it, move it out of the folder with a mail client", len(uids), slices.Min(uids))
}

// newMsg is what a cheap first FETCH says of a message.
type newMsg struct {
	uid          imap.UID
	size         int64
	internalDate time.Time
}

// listNew returns the messages with a UID above last, in UID order.
// "last+1:*" always matches the newest message, even when it is below
// last (RFC 3501 6.4.8), so UIDs are filtered here.
func (s *session) listNew(last uint32) ([]newMsg, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true})
	bufs, err := cmd.Collect()
	if err != nil {
		return nil, fmt.Errorf("listing new messages: %w", err)
	}
	var out []newMsg
	for _, b := range bufs {
		if uint32(b.UID) > last {
			out = append(out, newMsg{uid: b.UID, size: b.RFC822Size, internalDate: b.InternalDate})
		}
	}
	slices.SortFunc(out, func(a, b newMsg) int { return int(a.uid) - int(b.uid) })
	return out, nil
}

// guardedFollowup is the watcher's Followup with a panic contained to its
// message: the message is recorded all the same, with no answer and no
// case (the panic is logged with its stack and counted), and the mailbox
// goes on — a poisoned message must not block the ones behind it.
func (s *session) guardedFollowup(r store.Result, it store.Item) (f store.Followup) {
	if s.w.Followup == nil {
		return store.Followup{}
	}
	defer func() {
		if v := recover(); v != nil {
			panics.Recovered(s.log, "followup", "panic composing a message's answer or case: recorded without them", v,
				"uid", r.UID, "message_id", it.Facts.MessageID)
			f = store.Followup{}
		}
	}()
	f = s.w.Followup(r, it)
	if then := f.Then; then != nil {
		f.Then = func(ctx context.Context, tx *store.Tx) (err error) {
			defer func() {
				if v := recover(); v != nil {
					panics.Recovered(s.log, "followup", "panic applying a follow-up to its case: recorded without it", v,
						"uid", r.UID, "message_id", it.Facts.MessageID)
					err = nil
				}
			}()
			return tx.Isolated(ctx, func() error { return then(ctx, tx) })
		}
	}
	return f
}

// commitBatch inspects, classifies and records a fetched batch, commits
// it, and only then moves the messages out of the watched folder.
func (s *session) commitBatch(ctx context.Context, f fetched) error {
	seg, items := f.seg, f.items
	s.w.Heart.Beat()
	if len(items) == 0 { // the batch's first message was not returned
		seg.Discard()
		return nil
	}
	t1 := time.Now()
	s.classifyAll(seg, items)
	if err := s.linkFollowups(ctx, items); err != nil {
		seg.Discard()
		return err
	}
	t2 := time.Now()
	committed := false
	defer func() { // a panic before the commit leaves no segment behind
		if v := recover(); v != nil {
			if !committed {
				seg.Discard()
			}
			panic(v)
		}
	}()
	results, err := s.w.Store.Ingest(ctx, s.w.Mailbox.Name, s.folder, seg, storeItems(items), s.guardedFollowup)
	if err != nil {
		seg.Discard()
		return err
	}
	committed = true
	seg.Close()
	if s.w.Committed != nil {
		s.w.Committed()
	}
	t3 := time.Now()
	defer func() {
		s.log.Debug("batch done", "messages", len(items), "fetch", f.took, "classify", t2.Sub(t1),
			"store", t3.Sub(t2), "move", time.Since(t3))
	}()
	for i, r := range results {
		s.logResult(r, items[i])
	}
	moves := make([]store.PendingMove, 0, len(results))
	for _, r := range results {
		if !r.Kept {
			moves = append(moves, store.PendingMove{UID: r.UID, Outcome: r.Outcome})
		}
	}
	if err := s.move(ctx, moves); err != nil {
		return err
	}
	if s.w.Observer != nil {
		for i, r := range results {
			s.w.Observer(s.w.Mailbox.Name, r, items[i].facts)
		}
	}
	return nil
}

func (s *session) logResult(r store.Result, it *item) {
	attrs := []any{"uid", r.UID, "message_id", it.facts.MessageID, "outcome", r.Outcome}
	if len(r.Reasons) > 0 {
		attrs = append(attrs, "reasons", r.Reasons)
	}
	if r.Protocol != "" {
		attrs = append(attrs, "protocol", r.Protocol)
	}
	if r.Kept {
		s.log.Warn("a mail the shadow trial handled, seen again: left in the watched folder as the trial left it, not registered", attrs...)
	} else if r.SeenAgain {
		s.log.Info("message seen again, nothing assigned", attrs...)
	} else {
		s.log.Info("message recorded", attrs...)
	}
}

// movePending moves the messages recorded but not yet moved (a crash or a
// failure came between commit and move).
func (s *session) movePending(ctx context.Context) error {
	pending, err := s.w.Store.PendingMoves(ctx, s.w.Mailbox.Name, s.folder)
	if err != nil || len(pending) == 0 {
		return err
	}
	if uid, ok, err := s.samePending(pending); err != nil || !ok {
		if err != nil {
			return err
		}
		s.log.Warn("a UID left pending a move now names another message: the server gave its UIDs again; "+
			"moves dropped, the folder read again from its first message", "uid", uid)
		return s.w.Store.ForgetUIDs(ctx, s.w.Mailbox.Name, s.folder, fmt.Sprintf("uid %d names another message", uid))
	}
	s.log.Info("finishing pending moves", "count", len(pending))
	return s.move(ctx, pending)
}

// samePending checks that each UID left pending a move still names the
// message recorded under it (its Message-ID), before anything is moved:
// a server that gives UIDs again without a sign (UIDNEXT above the old
// last UID) must not have other mail moved unrecorded. A UID no longer
// there is fine: its MOVE does nothing.
func (s *session) samePending(pending []store.PendingMove) (imap.UID, bool, error) {
	var set imap.UIDSet
	want := map[imap.UID]string{}
	for _, p := range pending {
		set.AddNum(imap.UID(p.UID))
		want[imap.UID(p.UID)] = p.MessageID
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-Id"}, Peek: true}
	msgs, err := s.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return 0, false, fmt.Errorf("checking the messages pending a move: %w", err)
	}
	for _, m := range msgs {
		id, ok := want[m.UID]
		if !ok {
			continue // UID n:* shapes: not asked for
		}
		f, _ := mailparse.InspectHeader(bytes.NewReader(append(m.FindBodySection(section), '\r', '\n')))
		if f.MessageID != id {
			return m.UID, false, nil
		}
	}
	return 0, true, nil
}

// move moves UIDs to their outcome folders (MOVE, or COPY + STORE \Deleted +
// UID EXPUNGE where MOVE is missing) and records each move.
func (s *session) move(ctx context.Context, moves []store.PendingMove) error {
	byOutcome := map[triage.Outcome][]uint32{}
	for _, m := range moves {
		byOutcome[m.Outcome] = append(byOutcome[m.Outcome], m.UID)
	}
	for outcome, uids := range byOutcome {
		if s.w.Shadow { // left where they are; the UIDs recorded say what was seen
			if err := s.w.Store.MarkMoved(ctx, s.w.Mailbox.Name, s.folder, uids, ""); err != nil {
				return err
			}
			continue
		}
		folder := s.folders[outcome]
		var set imap.UIDSet
		for _, u := range uids {
			set.AddNum(imap.UID(u))
		}
		if _, err := s.c.Move(set, folder).Wait(); err != nil {
			return fmt.Errorf("moving %d messages to %q: %w", len(uids), folder, err)
		}
		if err := s.w.Store.MarkMoved(ctx, s.w.Mailbox.Name, s.folder, uids, folder); err != nil {
			return err
		}
	}
	return nil
}

// openSection reopens a message of the batch's segment for a classifier.
func openSection(seg *spool.Segment, ref spool.Ref) func() (triage.ReadSeekCloser, error) {
	return func() (triage.ReadSeekCloser, error) {
		r, err := seg.Section(ref)
		if err != nil {
			return nil, err
		}
		return nopCloser{r}, nil
	}
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }
