// Package deadlines keeps the agreements' working-day promises
// (REQUIREMENTS D1–D5): each accepted message opens a case with a due
// date; a ladder of the office's rules dates the solleciti and
// escalations of a late case, and of a case that waits on the
// professional; a scheduler takes each step once.
//
// How a term is counted, everywhere: a term of N working days from day D
// ends at the end of the N-th working day after D (D is day 0; a mail
// received on a non-working day or after the cut-off has as D the next
// working day). A step is taken on the first working day after its term
// ends, at the scheduled hour.
package deadlines

import (
	"time"

	"gatewayd/internal/rules"
)

// Step is one level of a ladder, dated, with its recipients resolved.
type Step struct {
	Level    rules.Level
	Date     time.Time // the day it is taken (midnight, Europe/Rome)
	To, Cc   []string
	Template string
}

// Plan is a case's due date and the dated steps of one of its ladders.
type Plan struct {
	Due   time.Time
	Steps []Step
}

// Anchors are the days a ladder's terms count from.
type Anchors struct {
	Receipt time.Time // the day the mail counts as received
	Due     time.Time
	Request time.Time // attesa: the day the office asked
	Forward time.Time // regione: the day the question was forwarded
	Answer  time.Time // riscontro: the day the region answered
}

// ReplyAnchors dates a mail received at t in mailbox m.
func ReplyAnchors(r *rules.Rules, m *rules.Mailbox, t time.Time) Anchors {
	d := r.Calendar.ReceiptDay(t)
	return Anchors{Receipt: d, Due: r.Calendar.TermEnd(d, m.Days)}
}

// Dates dates a ladder's steps from its anchors; the recipients are
// resolved for mailbox m and the case's sender.
func Dates(r *rules.Rules, l *rules.Ladder, m *rules.Mailbox, a Anchors, sender string) []Step {
	if l == nil {
		return nil
	}
	var steps []Step
	var prev time.Time
	for _, lv := range l.Levels {
		from := map[string]time.Time{rules.AnchorReceipt: a.Receipt, rules.AnchorDue: a.Due, rules.AnchorPrevious: prev,
			rules.AnchorRequest: a.Request, rules.AnchorForward: a.Forward, rules.AnchorAnswer: a.Answer}[lv.After]
		prev = r.Calendar.StepDay(from, lv.Days)
		steps = append(steps, Step{Level: lv, Date: prev, Template: lv.Template,
			To: r.Deadlines.Addresses(lv.To, m, sender), Cc: r.Deadlines.Addresses(lv.Cc, m, sender)})
	}
	return steps
}

// ReplyPlan is the due date and the reply ladder of a mail received at t
// in mailbox m from sender.
func ReplyPlan(r *rules.Rules, m *rules.Mailbox, t time.Time, sender string) Plan {
	a := ReplyAnchors(r, m, t)
	return Plan{Due: a.Due, Steps: Dates(r, r.Deadlines.Ladder(rules.LadderReply, m), m, a, sender)}
}
