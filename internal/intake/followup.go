package intake

import (
	"context"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/triage"
)

// linkFollowups marks the mails that follow up an open case (D2: the
// professional's reply, or a reminder quoting the number): they are
// accepted as follow-ups of that case, whatever their subject lacks, and
// get no number and no deadline of their own.
func (s *session) linkFollowups(ctx context.Context, items []*item) error {
	for _, it := range items {
		d := &it.decision
		if it.problem != nil || (d.Outcome != triage.Accepted && d.Outcome != triage.Refused) {
			continue
		}
		h := it.facts.Header
		ids := append(mailparse.MessageIDs(h.Get("In-Reply-To")), mailparse.MessageIDs(h.Get("References"))...)
		c, ok, err := s.w.Store.FollowedCase(ctx, ids, protocol.FindLabels(d.Subject), d.Sender)
		if err != nil {
			return err
		}
		if ok {
			d.Outcome, d.Reasons, d.Due, d.FollowsUp = triage.Accepted, []string{}, "", c.Protocol
		}
	}
	return nil
}
