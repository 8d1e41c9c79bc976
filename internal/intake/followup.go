package intake

import (
	"context"
	"slices"
	"strings"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// trustReasons are refusals a follow-up never lifts: what arrives on the
// PEC box must still be a certified PEC, on the normative box still the
// Ordine's.
var trustReasons = map[string]bool{triage.ReasonNotCertified: true, triage.ReasonPECInvalidSignature: true,
	triage.ReasonPECNotAddressedHere: true, triage.ReasonNotFromOrdine: true}

// linkFollowups marks the mails that follow up an open case (D2: the
// professional's reply, or a reminder quoting the number): from the
// case's own sender, not failing DMARC, they are accepted as follow-ups of
// that case, whatever their subject lacks, and get no number and no
// deadline of their own; a refusal for trust stands. The region's answer
// on a question forwarded to it (from one of its addresses, authenticated)
// is a follow-up too.
func (s *session) linkFollowups(ctx context.Context, items []*item) error {
	for _, it := range items {
		d := &it.decision
		if it.problem != nil || (d.Outcome != triage.Accepted && d.Outcome != triage.Refused) || d.SenderAuth == triage.AuthFail {
			continue
		}
		h := it.facts.Header
		ids := append(mailparse.MessageIDs(h.Get("In-Reply-To")), mailparse.MessageIDs(h.Get("References"))...)
		c, ok, err := s.w.Store.CaseOf(ctx, ids, protocol.FindLabels(d.Subject))
		if err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		trusted := !slices.ContainsFunc(d.Reasons, func(r string) bool { return trustReasons[r] })
		switch {
		case strings.EqualFold(c.Sender, d.Sender) && trusted:
		case triage.Authenticated(d.SenderAuth) && s.counterpart(c, d.Sender):
			d.RegionAnswer = true
		default:
			continue
		}
		d.Outcome, d.Reasons, d.Due, d.FollowsUp = triage.Accepted, []string{}, "", c.Protocol
	}
	return nil
}

// counterpart reports an address whose answer the case awaits.
func (s *session) counterpart(c store.Case, addr string) bool {
	if s.w.Counterparts == nil {
		return false
	}
	return slices.ContainsFunc(s.w.Counterparts(c), func(a string) bool { return strings.EqualFold(a, addr) })
}
