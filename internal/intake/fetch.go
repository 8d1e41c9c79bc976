package intake

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/panics"
	"gatewayd/internal/spool"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// item is one message of a batch on its way to the store.
type item struct {
	newMsg
	body      spool.Ref
	fetched   bool
	truncated bool
	facts     mailparse.Facts
	problem   *mailparse.Problem
	decision  triage.Decision
}

// fetchBatch streams each message of the batch into the batch's spool
// segment (bodies over the size cap: the header only) and returns those
// fetched, and the UIDs listed but not returned. No database work happens
// while a literal is open. On error the caller discards the segment.
func (s *session) fetchBatch(seg *spool.Segment, batch []newMsg) (kept []*item, missing []imap.UID, err error) {
	limit := int64(s.w.Mailbox.MaxMessageSize)
	items := make([]*item, 0, len(batch))
	byUID := map[imap.UID]*item{}
	var small, big imap.UIDSet
	for _, m := range batch {
		it := &item{newMsg: m}
		items = append(items, it)
		byUID[m.uid] = it
		if m.size > limit {
			it.truncated = true
			big.AddNum(m.uid)
		} else {
			small.AddNum(m.uid)
		}
	}
	if len(small) > 0 {
		if err := s.fetchBodies(seg, small, byUID, &imap.FetchItemBodySection{Peek: true}, limit); err != nil {
			return nil, nil, err
		}
	}
	if len(big) > 0 {
		hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
		if err := s.fetchBodies(seg, big, byUID, hdr, 1<<20); err != nil {
			return nil, nil, err
		}
	}
	// A message listed but not returned was expunged by another client
	// since the listing, or the server failed to send it: the caller asks.
	kept = items[:0]
	for _, it := range items {
		if it.fetched {
			kept = append(kept, it)
		} else {
			missing = append(missing, it.uid)
		}
	}
	return kept, missing, nil
}

// cutAtGap handles the messages listed but not returned by the FETCH of
// their bodies: those no longer in the folder (expunged meanwhile by
// another client, moved by the staff) have nothing to record or move;
// one still there ends the batch before it — nothing from it on is
// committed, so the last UID stays below it, and the caller fails the
// round, to be tried again with backoff. It returns the items to record
// and the UIDs still there.
func (s *session) cutAtGap(items []*item, missing []imap.UID) ([]*item, []imap.UID, error) {
	there, err := s.stillThere(missing)
	if err != nil {
		return nil, nil, err
	}
	var present []imap.UID
	for _, uid := range missing {
		if there[uid] {
			present = append(present, uid)
			s.log.Warn("a message in the folder was not returned by the FETCH of its body: the batch stops before it and the round is tried again",
				"uid", uid)
		} else {
			s.log.Info("a message listed was gone before its body was fetched (expunged or moved by another client): nothing to record", "uid", uid)
		}
	}
	if len(present) == 0 {
		return items, nil, nil
	}
	first := slices.Min(present)
	kept := items[:0]
	for _, it := range items {
		if it.uid < first {
			kept = append(kept, it)
		}
	}
	return kept, present, nil
}

// stillThere asks the server twice which of uids are still in the folder
// — UID SEARCH, then a FETCH of their UIDs as the listing did — and
// counts a message gone only when neither finds it: an answer that is not
// a UID set (a sequence-numbered ESEARCH) is an error, not "none".
func (s *session) stillThere(uids []imap.UID) (map[imap.UID]bool, error) {
	var set imap.UIDSet
	set.AddNum(uids...)
	data, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("looking for messages the server did not return: %w", err)
	}
	if _, ok := data.All.(imap.UIDSet); data.All != nil && !ok {
		return nil, fmt.Errorf("looking for messages the server did not return: UID SEARCH answered without UIDs")
	}
	there := map[imap.UID]bool{}
	for _, uid := range data.AllUIDs() {
		there[uid] = true
	}
	listed, err := s.c.Fetch(set, &imap.FetchOptions{UID: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("looking for messages the server did not return: %w", err)
	}
	for _, m := range listed {
		if slices.Contains(uids, m.UID) {
			there[m.UID] = true
		}
	}
	return there, nil
}

func (s *session) fetchBodies(seg *spool.Segment, set imap.UIDSet, byUID map[imap.UID]*item, section *imap.FetchItemBodySection, limit int64) error {
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		uid, body, res, ok, tooBig, err := readMessage(seg, msg, limit)
		if err != nil {
			return err
		}
		s.w.Heart.Beat() // a batch of large messages on a slow link takes long: it is alive
		it := byUID[uid]
		if it == nil || !ok {
			continue // not asked for, or no body: the bytes stay unreferenced
		}
		it.body, it.fetched = body, true
		it.facts, it.problem = res.facts, res.problem
		if tooBig { // the server's RFC822.SIZE was below the bytes it sent
			it.truncated = true
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetching bodies: %w", err)
	}
	return nil
}

// readMessage drains one FETCH response into the segment, inspecting
// the body as it passes.
func readMessage(seg *spool.Segment, msg *imapclient.FetchMessageData, limit int64) (uid imap.UID, body spool.Ref, res inspected, ok, tooBig bool, err error) {
	for {
		it := msg.Next()
		if it == nil {
			return uid, body, res, ok, tooBig, nil
		}
		switch it := it.(type) {
		case imapclient.FetchItemDataUID:
			uid = it.UID
		case imapclient.FetchItemDataBodySection:
			if it.Literal == nil || ok {
				continue
			}
			if body, res, tooBig, err = spoolAndInspect(seg, it.Literal, limit); err != nil {
				return 0, body, res, false, false, err
			}
			ok = true
		}
	}
}

// classifyAll classifies the well-formed messages of a batch (their facts
// were read while they were fetched) and marks those over the size cap.
func (s *session) classifyAll(seg *spool.Segment, items []*item) {
	cls := s.w.Classifier()
	for _, it := range items {
		if it.truncated {
			it.problem = &mailparse.Problem{Reason: mailparse.ReasonOverSizeCap,
				Detail: fmt.Sprintf("%d bytes, over the cap; only the header is kept, the message stays on the server", it.size)}
			continue
		}
		if it.problem != nil {
			continue
		}
		it.classify(s.log, cls, triage.Input{
			Mailbox: s.w.Mailbox.Name, Address: s.w.Mailbox.Address, ReceivedAt: it.internalDate,
			Facts: it.facts, Open: openSection(seg, it.body),
		})
	}
}

// classify runs the classifier; a panic quarantines this message only,
// instead of failing the batch again and again.
func (it *item) classify(log *slog.Logger, cls triage.Classifier, in triage.Input) {
	defer func() {
		if v := recover(); v != nil {
			panics.Recovered(log, "classifier", "panic in the classifier: the message is quarantined", v, "uid", it.uid)
			it.problem = &mailparse.Problem{Reason: mailparse.ReasonParserFailure, Detail: fmt.Sprintf("classifier panic: %v", v)}
		}
	}()
	it.decision = cls.Classify(in)
}

func storeItems(items []*item) []store.Item {
	out := make([]store.Item, len(items))
	for i, it := range items {
		out[i] = store.Item{
			UID: uint32(it.uid), InternalDate: it.internalDate, Size: it.size,
			Body: it.body, Truncated: it.truncated, Facts: it.facts,
			Problem: it.problem, Decision: it.decision,
		}
	}
	return out
}
