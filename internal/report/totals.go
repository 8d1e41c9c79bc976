package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// add adds g's counts to f (open and overdue too: use span for a total
// over periods).
func (f *Figures) add(g Figures) {
	f.Received += g.Received
	f.Protocolled += g.Protocolled
	f.FollowUps += g.FollowUps
	f.Refused += g.Refused
	f.Ignored += g.Ignored
	f.Quarantined += g.Quarantined
	f.InTime += g.InTime
	f.Late += g.Late
	f.Open += g.Open
	f.Overdue += g.Overdue
	f.Solleciti += g.Solleciti
	f.Escalations += g.Escalations
	f.Flagged += g.Flagged
	f.Annulments += g.Annulments
	f.ReplyDays = append(f.ReplyDays, g.ReplyDays...)
	if f.RefusedBy == nil {
		f.RefusedBy = map[string]int{}
	}
	for r, n := range g.RefusedBy {
		f.RefusedBy[r] += n
	}
}

// span totals consecutive periods: counts add up, open and overdue are
// those at the end of the last.
func span(ps []Figures) Figures {
	var t Figures
	for _, p := range ps {
		t.add(p)
	}
	if len(ps) > 0 {
		t.Open, t.Overdue = ps[len(ps)-1].Open, ps[len(ps)-1].Overdue
	}
	return t
}

// MailboxTotal is mailbox m's figures over the whole span.
func (c *Compliance) MailboxTotal(m int) Figures { return span(c.Rows[m]) }

// PeriodTotal is every mailbox's figures in period p.
func (c *Compliance) PeriodTotal(p int) Figures {
	var t Figures
	for m := range c.Rows {
		t.add(c.Rows[m][p])
	}
	if t.RefusedBy == nil {
		t.RefusedBy = map[string]int{}
	}
	return t
}

// Total is every mailbox's figures over the whole span.
func (c *Compliance) Total() Figures {
	ps := make([]Figures, len(c.Periods))
	for p := range ps {
		ps[p] = c.PeriodTotal(p)
	}
	return span(ps)
}

// Median is the median of the reply times in working days (the mean of
// the two middle ones for an even count); ok is false without answers.
func (f Figures) Median() (v float64, ok bool) {
	d := sorted(f.ReplyDays)
	n := len(d)
	switch {
	case n == 0:
		return 0, false
	case n%2 == 1:
		return float64(d[n/2]), true
	}
	return float64(d[n/2-1]+d[n/2]) / 2, true
}

// P90 is the 90th percentile of the reply times in working days, by
// nearest rank: the smallest time that at least 90 % of the answers took
// no longer than; ok is false without answers.
func (f Figures) P90() (v int, ok bool) {
	d := sorted(f.ReplyDays)
	if len(d) == 0 {
		return 0, false
	}
	return d[int(math.Ceil(0.9*float64(len(d))))-1], true
}

func sorted(v []int) []int {
	d := append([]int(nil), v...)
	sort.Ints(d)
	return d
}

// Reason is a refusal reason and how many refusals gave it.
type Reason struct {
	Code  string
	Count int
}

// Reasons are the refusals by reason, the most frequent first.
func (f Figures) Reasons() []Reason {
	out := make([]Reason, 0, len(f.RefusedBy))
	for r, n := range f.RefusedBy {
		if n > 0 {
			out = append(out, Reason{r, n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].Code < out[j].Code
	})
	return out
}

// reasonList writes the refusals by reason as reason=n;reason=n, by code.
func (f Figures) reasonList() string {
	rs := f.Reasons()
	sort.Slice(rs, func(i, j int) bool { return rs[i].Code < rs[j].Code })
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Code + "=" + strconv.Itoa(r.Count)
	}
	return strings.Join(parts, ";")
}
