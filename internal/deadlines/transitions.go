package deadlines

import (
	"context"
	"fmt"
	"time"

	"gatewayd/internal/rules"
	"gatewayd/internal/store"
)

// Outcomes an operator may close a case with.
var Outcomes = map[string]bool{store.OutcomeAnswered: true, store.OutcomeUnsatisfactory: true, store.OutcomeWithdrawn: true}

// Wait puts a case on the professional (D3): the office asked for
// documents or clarifications on day now (a mail in Sent with the rules'
// marker, or gatewayd case wait). The waiting ladder's terms count from
// that day; each request is a round of its own.
func Wait(ctx context.Context, tx *store.Tx, r *rules.Rules, c store.Case, now time.Time, why map[string]any) error {
	if !c.Open() {
		return fmt.Errorf("case %s is %s", c.Protocol, c.State)
	}
	return transition(ctx, tx, r, c, store.CaseWaiting, rules.LadderWaiting, now, why)
}

// Forward starts the region's terms of a normative question (D4).
func Forward(ctx context.Context, tx *store.Tx, r *rules.Rules, c store.Case, now time.Time, why map[string]any) error {
	if !c.Open() {
		return fmt.Errorf("case %s is %s", c.Protocol, c.State)
	}
	return transition(ctx, tx, r, c, c.State, rules.LadderRegion, now, why)
}

func transition(ctx context.Context, tx *store.Tx, r *rules.Rules, c store.Case, state, kind string, now time.Time, why map[string]any) error {
	m, ok := r.Mailbox(c.Address)
	if !ok {
		return fmt.Errorf("case %s: mailbox %s is no longer among the caselle", c.Protocol, c.Address)
	}
	l := r.Deadlines.Ladder(kind, m)
	if l == nil {
		return fmt.Errorf("case %s: the rules have no %s ladder for %s", c.Protocol, kind, c.Address)
	}
	anchor := r.Calendar.ReceiptDay(now)
	var next time.Time
	if steps := Dates(r, l, m, Anchors{Request: anchor, Forward: anchor, Answer: anchor}, c.Sender); len(steps) > 0 {
		next = At(r, steps[0].Date)
	}
	return tx.Transition(ctx, c, state, kind+"@"+anchor.Format(time.DateOnly), anchor, next, why)
}

// Resume ends a wait: the professional replied. The office's reply ladder
// goes on where it was (its own term paused meanwhile when the rules say
// so: the due date moves by the working days waited).
func Resume(ctx context.Context, tx *store.Tx, r *rules.Rules, c store.Case, now time.Time, why map[string]any) error {
	if c.State != store.CaseWaiting {
		return nil
	}
	m, ok := r.Mailbox(c.Address)
	if !ok {
		return fmt.Errorf("case %s: mailbox %s is no longer among the caselle", c.Protocol, c.Address)
	}
	a := anchorsOf(c)
	if r.Deadlines != nil && r.Deadlines.WaitPausesClock {
		waited := r.Calendar.Between(c.AnchorDay, r.Calendar.ReceiptDay(now))
		a.Due = r.Calendar.AddWorkdays(c.Due, waited)
		if err := tx.SetDue(ctx, c, a.Due, time.Time{}, waited); err != nil {
			return err
		}
	}
	taken, err := tx.StepsOf(ctx, c.ID)
	if err != nil {
		return err
	}
	next := nextUntaken(r, Dates(r, r.Deadlines.Ladder(rules.LadderReply, m), m, a, c.Sender), taken, rules.LadderReply)
	state := store.CaseOpen
	for _, t := range taken {
		if t.Ladder == rules.LadderReply {
			state = store.CaseOverdue
		}
	}
	return tx.Transition(ctx, c, state, rules.LadderReply, time.Time{}, next, why)
}

// Appointment reports whether a case qualifies for an in-person
// appointment (D5): closed as unsatisfactory, or open longer than the
// rules' days (calendar days since it was received).
func Appointment(r *rules.Rules, c store.Case, now time.Time) bool {
	if c.Outcome == store.OutcomeUnsatisfactory {
		return true
	}
	days := 7
	if r != nil && r.Deadlines != nil {
		days = r.Deadlines.AppointmentDays
	}
	return c.Open() && now.Sub(c.ReceivedDay) > time.Duration(days)*24*time.Hour
}

// RegionAnswered starts the relay's term (D4): the region answered a
// question forwarded to it; the office relays it to the Ordine by the
// next working day (its reply in Sent closes the case).
func RegionAnswered(ctx context.Context, tx *store.Tx, r *rules.Rules, c store.Case, now time.Time, why map[string]any) error {
	if !c.Open() {
		return nil
	}
	return transition(ctx, tx, r, c, c.State, rules.LadderRelay, now, why)
}

// FollowupEffect is what a follow-up does to its case, in the transaction
// that records it: linked (its Message-ID leads to the case from now on),
// recorded in the case's history, and a wait on the professional ended —
// or, for the region's answer, the relay's term started.
func FollowupEffect(r *rules.Rules, protocol, messageID string, now time.Time, regionAnswer bool) func(ctx context.Context, tx *store.Tx) error {
	return func(ctx context.Context, tx *store.Tx) error {
		c, err := tx.CaseByProtocol(ctx, protocol)
		if err != nil {
			return err
		}
		if err := tx.LinkCase(ctx, messageID, c.ID); err != nil {
			return err
		}
		why := map[string]any{"message_id": messageID}
		if err := tx.CaseEvent(ctx, c, "follow-up-received", why); err != nil {
			return err
		}
		switch {
		case regionAnswer && r != nil:
			return RegionAnswered(ctx, tx, r, c, now, map[string]any{"by": "the region's answer", "message_id": messageID})
		case c.State == store.CaseWaiting && r != nil:
			return Resume(ctx, tx, r, c, now, map[string]any{"by": "the professional's reply", "message_id": messageID})
		}
		return nil
	}
}
