package deadlines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"gatewayd/internal/answer"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/panics"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
)

// Store is what the scheduler needs of the store: the due cases, found
// through an index, and a transaction per case.
type Store interface {
	DueCases(ctx context.Context, now time.Time, limit int) ([]int64, error)
	OpenCases(ctx context.Context) ([]store.Case, error)
	Update(ctx context.Context, f func(ctx context.Context, tx *store.Tx) error) error
}

// Scheduler takes the ladders' steps: one goroutine owns it, with a cron
// schedule from the rules (working days at their hour, Europe/Rome), and
// it catches up once at start. Each step is recorded with its UNIQUE
// (case, ladder, level) key in the transaction that enqueues its mail.
type Scheduler struct {
	Store  Store
	Office func() *answer.Office // the rules and templates in force
	Config *config.Config        // the mailboxes' accounts; shadow mode
	Now    clock.Clock
	Log    *slog.Logger
	Queued func() // wakes the outbox after a pass enqueued mail
	// Heart beats while a pass works and is parked between passes (nil:
	// no watchdog).
	Heart *supervise.Heart

	mu    sync.Mutex // one pass at a time
	cron  *cron.Cron
	cmu   sync.Mutex // the cron entry (a reload changes it)
	entry cron.EntryID
}

// batch bounds the cases read per query of a pass; perTx the cases
// stepped in one transaction.
const (
	batch = 500
	perTx = 100
)

// Result counts what a pass did.
type Result struct {
	Due, Taken, Skipped int
}

// Run runs the schedule until ctx ends: a pass at start (catching up on
// what fell due while the daemon was down) and one at each scheduled time.
func (s *Scheduler) Run(ctx context.Context) {
	c := cron.New(cron.WithLocation(clock.Rome), cron.WithChain(cron.Recover(cron.DiscardLogger)))
	s.cmu.Lock()
	s.cron = c
	s.cmu.Unlock()
	defer func() { <-c.Stop().Done() }() // also when a panic ends Run: a restart must not leave two schedules
	s.Reschedule()
	c.Start()
	s.guardedPass(ctx)
	<-ctx.Done()
}

// SetConfig swaps in another configuration (a reload), once the pass in
// progress, if any, is over.
func (s *Scheduler) SetConfig(c *config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Config = c
}

// Reschedule sets the cron entry from the rules in force (after a reload).
func (s *Scheduler) Reschedule() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.cron == nil {
		return
	}
	if s.entry != 0 {
		s.cron.Remove(s.entry)
	}
	h := 8*time.Hour + 30*time.Minute
	if o := s.Office(); o != nil && o.Rules != nil && o.Rules.Deadlines != nil {
		h = o.Rules.Deadlines.Hour
	}
	spec := fmt.Sprintf("%d %d * * 1-5", int(h.Minutes())%60, int(h.Hours()))
	id, err := s.cron.AddFunc(spec, func() { s.guardedPass(context.Background()) })
	if err != nil {
		s.Log.Error("scheduling the deadlines", "spec", spec, "err", err)
		return
	}
	s.entry = id
	s.Log.Info("deadlines scheduled", "spec", spec, "zone", "Europe/Rome")
}

// guardedPass runs a pass, logging and counting a panic instead of dying.
func (s *Scheduler) guardedPass(ctx context.Context) {
	defer func() {
		if v := recover(); v != nil {
			panics.Recovered(s.Log, "deadlines", "panic in the deadlines pass: it is taken again at the next scheduled time", v)
		}
		s.Heart.Park() // until the next pass: cron's timer cannot hang
	}()
	s.Heart.Beat()
	res, err := s.Pass(ctx)
	if err != nil {
		s.Log.Error("deadlines pass failed: it is taken again at the next scheduled time", "err", err)
	}
	if res.Due > 0 {
		s.Log.Info("deadlines pass", "due", res.Due, "taken", res.Taken, "skipped", res.Skipped)
	}
}

// Pass takes every step that fell due: only on a working day within
// office hours (mail never leaves at night or on a holiday). A case that
// crossed several levels while the daemon was down gets only the level it
// is at now; the others are recorded as skipped.
func (s *Scheduler) Pass(ctx context.Context) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res Result
	o := s.Office()
	if o == nil || o.Rules == nil || o.Rules.Deadlines == nil {
		return res, nil
	}
	now := s.Now.Now()
	if !inOfficeHours(o.Rules, now) {
		return res, nil
	}
	seen := map[int64]bool{}
	for {
		cases, err := s.Store.DueCases(ctx, now, batch)
		if err != nil {
			return res, err
		}
		var fresh []int64
		for _, id := range cases {
			if !seen[id] {
				seen[id] = true
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 0 {
			break // what is left was stepped in this pass already
		}
		// Several cases per transaction (one fsync), each step still under
		// its own UNIQUE key: a crash loses the whole group or none of it.
		for len(fresh) > 0 {
			s.Heart.Beat()
			group := fresh[:min(perTx, len(fresh))]
			fresh = fresh[len(group):]
			if err := s.Store.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
				for _, id := range group {
					if err := s.step(ctx, tx, o, id, now, &res); err != nil {
						return fmt.Errorf("case %d: %w", id, err)
					}
				}
				return nil
			}); err != nil {
				return res, err
			}
			res.Due += len(group)
		}
		if len(cases) < batch {
			break
		}
	}
	if res.Taken > 0 && s.Queued != nil {
		s.Queued()
	}
	return res, nil
}

// Window is when a deadline mail may leave: now within office hours on a
// working day, else the next opening (answers may leave at any time).
func Window(r *rules.Rules, it store.OutboxItem, now time.Time) time.Time {
	if it.Case == 0 || r == nil || r.Deadlines == nil || inOfficeHours(r, now) {
		return now
	}
	day := clock.Day(now)
	if !r.Calendar.IsWorkday(day) || now.In(clock.Rome).Sub(day) >= r.Deadlines.OfficeFrom {
		day = r.Calendar.NextWorkday(day)
	}
	return day.Add(r.Deadlines.OfficeFrom)
}

// inOfficeHours: a working day, between the rules' office hours.
func inOfficeHours(r *rules.Rules, now time.Time) bool {
	if !r.Calendar.IsWorkday(now) {
		return false
	}
	since := now.In(clock.Rome).Sub(clock.Day(now))
	return since >= r.Deadlines.OfficeFrom && since < r.Deadlines.OfficeTo
}

// step takes what is due of one case, in its own transaction.
func (s *Scheduler) step(ctx context.Context, tx *store.Tx, o *answer.Office, id int64, now time.Time, res *Result) error {
	c, err := tx.CaseByID(ctx, id)
	if err != nil {
		return err
	}
	if !c.Open() {
		return tx.SetNextStep(ctx, c, time.Time{})
	}
	r := o.Rules
	m, ok := r.Mailbox(c.Address)
	steps := Dates(r, r.Deadlines.Ladder(store.LadderKind(c.Ladder), m), m, anchorsOf(c), c.Sender)
	if !ok || len(steps) == 0 {
		// The rules in force have no ladder for it (its mailbox or ladder
		// was taken out): it stays due, looked at again the next working
		// day, so that it goes on when the rules give it one again.
		s.Log.Warn("no ladder for an open case in the rules in force", "protocol", c.Protocol, "mailbox", c.Address, "ladder", c.Ladder)
		return tx.SetNextStep(ctx, c, At(r, r.Calendar.NextWorkday(now)))
	}
	today := clock.Day(now)
	at := -1
	for i, st := range steps {
		if !st.Date.After(today) {
			at = i
		}
	}
	if at < 0 { // not due after all (the calendar changed): wait for the first
		return tx.SetNextStep(ctx, c, At(r, steps[0].Date))
	}
	taken, err := tx.StepsOf(ctx, c.ID)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	var sent []string
	for _, t := range taken {
		if t.Ladder == c.Ladder {
			done[t.Level] = true
			if !t.Skipped {
				sent = append(sent, fmt.Sprintf("%s (%s)", t.Level, t.DueDay.Format("02/01/2006")))
			}
		}
	}
	next := time.Time{}
	if at+1 < len(steps) {
		next = At(r, steps[at+1].Date)
	}
	// Levels dated before the current one were crossed while the daemon
	// was away (or the case waited): recorded, not mailed. Levels of the
	// current one's day are all taken (two levels may share a day).
	for i := 0; i <= at; i++ {
		st := steps[i]
		if done[st.Level.Name] {
			continue
		}
		var mail *store.Mail
		skipped := st.Date.Before(steps[at].Date)
		if !skipped {
			if mail, err = s.notice(ctx, tx, o, c, m, st, sent, now); err != nil {
				return err
			}
		}
		if c, err = tx.CaseByID(ctx, c.ID); err != nil { // TakeStep moved it on
			return err
		}
		if err := tx.TakeStep(ctx, c, st.Level.Name, st.Date, skipped, mail, next); err != nil && !errors.Is(err, store.ErrStepTaken) {
			return err
		}
		if skipped {
			res.Skipped++
		} else {
			res.Taken++
		}
	}
	return tx.SetNextStep(ctx, c, next)
}

// anchorsOf are a stored case's anchors.
func anchorsOf(c store.Case) Anchors {
	return Anchors{Receipt: c.ReceivedDay, Due: c.Due, Request: c.AnchorDay, Forward: c.AnchorDay, Answer: c.AnchorDay}
}

// notice composes the mail of a step.
func (s *Scheduler) notice(ctx context.Context, tx *store.Tx, o *answer.Office, c store.Case, m *rules.Mailbox, st Step,
	sent []string, now time.Time) (*store.Mail, error) {
	f, err := tx.CaseFacts(ctx, c)
	if err != nil {
		return nil, err
	}
	mb, from := s.Config.Sender(c.Mailbox)
	data := answer.Data{Mailbox: m.Address, Protocol: c.Protocol, Sender: c.Sender, Subject: f.Subject,
		CodiceFiscale: f.CodiceFiscale, MessageID: f.MessageID, LevelsSent: sent,
		Received: f.ReceivedAt.In(clock.Rome).Format("02/01/2006") + " alle " + f.ReceivedAt.In(clock.Rome).Format("15:04"),
		Due:      c.Due.Format("02/01/2006"), DaysLate: o.Rules.Calendar.Between(c.Due, now),
		Opened: openedDay(c).Format("02/01/2006")}
	msg, err := answer.ComposeNotice(o.Templates, answer.Notice{Template: st.Template, Level: st.Level.Name,
		OfficeName: o.Rules.Office.Name, OfficeCode: o.Rules.Office.Code, From: from, To: st.To, Cc: st.Cc, Data: data, Now: now})
	mail := &store.Mail{Mailbox: mb, Kind: st.Level.Name, From: from, To: strings.Join(st.To, ","), Cc: st.Cc, State: store.OutQueued}
	if err != nil { // recorded, not sent: the step is taken all the same, and says why
		s.Log.Error("composing a deadline mail failed: recorded as suppressed", "protocol", c.Protocol, "level", st.Level.Name, "err", err)
		mail.State, mail.Reason, mail.MessageID = store.OutSuppressed, "composing the notice failed: "+err.Error(),
			fmt.Sprintf("gatewayd.%s.none.%d@invalid", st.Level.Name, c.ID)
		return mail, nil
	}
	mail.MessageID, mail.Raw = msg.MessageID, msg.Raw
	if s.Config != nil && s.Config.Shadow {
		mail.State, mail.Reason = store.OutHeld, "shadow mode"
	}
	if restored, err := tx.RestoredAt(ctx); err != nil {
		return nil, err
	} else if !restored.IsZero() && !st.Date.After(clock.Day(restored)) {
		// Due by the restore: it may have gone out between the backup and the failure.
		mail.State, mail.Reason = store.OutHeld, store.HeldRestoredReason("due on or before the restore")
	}
	return mail, nil
}

func openedDay(c store.Case) time.Time {
	if store.LadderKind(c.Ladder) != rules.LadderReply && !c.AnchorDay.IsZero() {
		return c.AnchorDay
	}
	return c.ReceivedDay
}

// Recompute dates open cases again after the calendar changed (a closure
// added on reload): a due date that moves is recorded with the next step
// it moves, as an event; what was recorded before is never touched.
func (s *Scheduler) Recompute(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.Office()
	if o == nil || o.Rules == nil {
		return 0, nil
	}
	cases, err := s.Store.OpenCases(ctx)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, c := range cases {
		m, ok := o.Rules.Mailbox(c.Address)
		if !ok || c.TermDays == 0 {
			continue
		}
		// The promise made (the days at opening, and those the term stood
		// still) on the calendar as it is now.
		due := o.Rules.Calendar.TermEnd(c.ReceivedDay, c.TermDays+c.PausedDays)
		if due.Equal(c.Due) {
			continue
		}
		err := s.Store.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
			taken, err := tx.StepsOf(ctx, c.ID)
			if err != nil {
				return err
			}
			a := anchorsOf(c)
			a.Due = due
			steps := Dates(o.Rules, o.Rules.Deadlines.Ladder(store.LadderKind(c.Ladder), m), m, a, c.Sender)
			return tx.SetDue(ctx, c, due, nextUntaken(o.Rules, steps, taken, c.Ladder), 0)
		})
		if err != nil {
			return moved, fmt.Errorf("case %s: %w", c.Protocol, err)
		}
		moved++
	}
	return moved, nil
}

// nextUntaken is when the first step not yet taken falls due.
func nextUntaken(r *rules.Rules, steps []Step, taken []store.Step, ladder string) time.Time {
	done := map[string]bool{}
	for _, t := range taken {
		done[t.Ladder+"/"+t.Level] = true
	}
	for _, st := range steps {
		if !done[ladder+"/"+st.Level.Name] {
			return At(r, st.Date)
		}
	}
	return time.Time{}
}
