package deadlines

import (
	"time"

	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// NewCase is the case an accepted message opens, with its due date and
// when its first step falls due; nil for anything else (refused, ignored,
// quarantined, seen again) or without rules.
func NewCase(r *rules.Rules, address string, res store.Result, it store.Item) *store.NewCase {
	if r == nil || res.SeenAgain || res.Outcome != triage.Accepted || res.Protocol == "" {
		return nil
	}
	m, ok := r.Mailbox(address)
	if !ok {
		return nil
	}
	sender := it.Decision.Sender
	a := ReplyAnchors(r, m, it.InternalDate)
	n := &store.NewCase{Address: m.Address, Sender: sender, ReceivedDay: a.Receipt, Due: a.Due, TermDays: m.Days,
		Links: []string{it.Facts.MessageID, it.Decision.OriginalID}}
	if steps := Dates(r, r.Deadlines.Ladder(rules.LadderReply, m), m, a, sender); len(steps) > 0 {
		n.NextStep = At(r, steps[0].Date)
	}
	return n
}

// At is the time a step dated day is taken: the rules' hour that day.
func At(r *rules.Rules, day time.Time) time.Time {
	h := 8*time.Hour + 30*time.Minute
	if r.Deadlines != nil {
		h = r.Deadlines.Hour
	}
	return day.Add(h)
}
