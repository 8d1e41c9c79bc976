package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CSVHeader is the compliance report's CSV header: one row per mailbox
// and period follows (the README explains each column).
var CSVHeader = []string{"mailbox", "address", "period", "period_start", "period_end", "received", "protocolled",
	"follow_ups", "refused", "refused_by_reason", "ignored", "quarantined", "answered_in_time", "answered_late",
	"open_at_end", "overdue_at_end", "solleciti", "escalations", "reply_median_workdays", "reply_p90_workdays",
	"senders_flagged", "annulments"}

// CSV writes the report as CSV (RFC 4180): the header, then one row per
// mailbox and period. The reply-time columns are empty without answers;
// annulments counts the period's annulments of live registrations.
func CSV(w io.Writer, c *Compliance) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	for m, mb := range c.Mailboxes {
		for p, per := range c.Periods {
			cw.Write(csvRow(c, mb, per, c.Rows[m][p]))
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(c *Compliance, mb Mailbox, per Period, f Figures) []string {
	n := strconv.Itoa
	median, p90 := "", ""
	if v, ok := f.Median(); ok {
		median = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if v, ok := f.P90(); ok {
		p90 = n(v)
	}
	annulments := n(f.Annulments)
	return []string{mb.Name, mb.Address, per.Label, per.First.Format(time.DateOnly), per.Last.Format(time.DateOnly),
		n(f.Received), n(f.Protocolled), n(f.FollowUps), n(f.Refused), f.reasonList(), n(f.Ignored), n(f.Quarantined),
		n(f.InTime), n(f.Late), n(f.Open), n(f.Overdue), n(f.Solleciti), n(f.Escalations), median, p90,
		n(f.Flagged), annulments}
}
