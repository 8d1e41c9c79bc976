package intake

import (
	"context"
	"slices"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
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
// deadline of their own. A refusal for trust stands.
func (s *session) linkFollowups(ctx context.Context, items []*item) error {
	for _, it := range items {
		d := &it.decision
		if it.problem != nil || (d.Outcome != triage.Accepted && d.Outcome != triage.Refused) || d.SenderAuth == triage.AuthFail ||
			slices.ContainsFunc(d.Reasons, func(r string) bool { return trustReasons[r] }) {
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
