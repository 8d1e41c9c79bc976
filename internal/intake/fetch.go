package intake

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/spool"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// item is one message of a batch on its way to the store.
type item struct {
	newMsg
	body      *spool.Pending
	truncated bool
	facts     mailparse.Facts
	problem   *mailparse.Problem
	decision  triage.Decision
}

// fetchBatch streams each message of the batch into the spool (bodies over
// the size cap: the header only). No database work happens while a literal
// is open. On error nothing of the batch is kept.
func (s *session) fetchBatch(batch []newMsg) ([]*item, error) {
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
		if err := s.fetchBodies(small, byUID, &imap.FetchItemBodySection{Peek: true}, limit); err != nil {
			discard(items)
			return nil, err
		}
	}
	if len(big) > 0 {
		hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
		if err := s.fetchBodies(big, byUID, hdr, 1<<20); err != nil {
			discard(items)
			return nil, err
		}
	}
	// A message expunged by someone else between the two FETCHes is gone
	// from the server: there is nothing to record or to move.
	kept := items[:0]
	for _, it := range items {
		if it.body != nil {
			kept = append(kept, it)
		}
	}
	return kept, nil
}

func (s *session) fetchBodies(set imap.UIDSet, byUID map[imap.UID]*item, section *imap.FetchItemBodySection, limit int64) error {
	cmd := s.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		uid, body, tooBig, err := s.readMessage(msg, limit)
		if err != nil {
			return err
		}
		it := byUID[uid]
		if it == nil || body == nil {
			if body != nil {
				body.Discard()
			}
			continue
		}
		it.body = body
		if tooBig { // the server's RFC822.SIZE was below the bytes it sent
			it.truncated = true
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetching bodies: %w", err)
	}
	return nil
}

// readMessage drains one FETCH response into a spool file.
func (s *session) readMessage(msg *imapclient.FetchMessageData, limit int64) (imap.UID, *spool.Pending, bool, error) {
	var (
		uid    imap.UID
		body   *spool.Pending
		tooBig bool
	)
	for {
		it := msg.Next()
		if it == nil {
			return uid, body, tooBig, nil
		}
		switch it := it.(type) {
		case imapclient.FetchItemDataUID:
			uid = it.UID
		case imapclient.FetchItemDataBodySection:
			if it.Literal == nil {
				continue
			}
			p, big, err := s.spoolLiteral(it.Literal, limit)
			if err != nil {
				return 0, nil, false, err
			}
			if body != nil {
				body.Discard()
			}
			body, tooBig = p, big
		}
	}
}

// spoolLiteral copies a literal into the spool; past the limit the rest is
// drained and dropped and the message reported as too big.
func (s *session) spoolLiteral(lit io.Reader, limit int64) (*spool.Pending, bool, error) {
	w, err := s.w.Store.Spool().Create(limit)
	if err != nil {
		return nil, false, err
	}
	_, err = io.Copy(w, lit)
	tooBig := errors.Is(err, spool.ErrTooLarge)
	if tooBig {
		_, err = io.Copy(io.Discard, lit)
	}
	if err != nil {
		w.Abort()
		return nil, false, fmt.Errorf("reading message body: %w", err)
	}
	p, err := w.Close()
	return p, tooBig, err
}

// inspectAll parses each spooled message and classifies the well-formed.
func (s *session) inspectAll(items []*item) {
	cls := s.w.Classifier()
	for _, it := range items {
		it.inspect(s.w.Mailbox.Name, s.w.Mailbox.Address, cls)
	}
}

func (it *item) inspect(mailbox, address string, cls triage.Classifier) {
	f, err := os.Open(it.body.TempName())
	if err != nil {
		it.problem = &mailparse.Problem{Reason: mailparse.ReasonParserFailure, Detail: err.Error()}
		return
	}
	defer f.Close()
	if it.truncated {
		it.facts, _ = mailparse.InspectHeader(f)
		it.problem = &mailparse.Problem{Reason: mailparse.ReasonOverSizeCap,
			Detail: fmt.Sprintf("%d bytes, over the cap; only the header is kept, the message stays on the server", it.size)}
		return
	}
	it.facts, it.problem = mailparse.Inspect(f)
	if it.problem != nil {
		return
	}
	it.classify(cls, triage.Input{
		Mailbox: mailbox, Address: address, ReceivedAt: it.internalDate,
		Facts: it.facts, Open: openFile(it.body.TempName()),
	})
}

// classify runs the classifier; a panic quarantines this message only,
// instead of failing the batch again and again.
func (it *item) classify(cls triage.Classifier, in triage.Input) {
	defer func() {
		if v := recover(); v != nil {
			panicsTotal.Add(1)
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
