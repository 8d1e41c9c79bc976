package intake

import (
	"context"
	"regexp"
	"strings"

	"gatewayd/internal/triage"
)

// protocolRE finds protocol numbers in a subject (any office's format
// with a 4-digit year and a number of at least 4 digits).
var protocolRE = regexp.MustCompile(`[A-Z][A-Z0-9]*(?:\.[A-Z0-9]+)*\.\d{4}\.\d{4,}`)

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
		ids := append(msgIDs(h.Get("In-Reply-To")), msgIDs(h.Get("References"))...)
		c, ok, err := s.w.Store.FollowedCase(ctx, ids, protocolRE.FindAllString(strings.ToUpper(d.Subject), -1), d.Sender)
		if err != nil {
			return err
		}
		if ok {
			d.Outcome, d.Reasons, d.Due, d.FollowsUp = triage.Accepted, []string{}, "", c.Protocol
		}
	}
	return nil
}

// msgIDs reads the Message-IDs of an In-Reply-To or References value.
func msgIDs(v string) []string {
	var out []string
	for _, f := range strings.Fields(v) {
		if id := strings.Trim(f, "<>,"); strings.Contains(id, "@") {
			out = append(out, id)
		}
	}
	return out
}
