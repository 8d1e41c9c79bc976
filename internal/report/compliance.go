package report

import (
	"context"
	"sort"
	"strings"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/workdays"
)

// Source is what the compliance report reads of the store
// (store.ReportTool).
type Source interface {
	Intake(ctx context.Context, from, to time.Time) ([]store.Intake, error)
	CaseSpans(ctx context.Context, from, to time.Time) ([]store.CaseSpan, error)
	LadderMails(ctx context.Context, from, to time.Time) ([]store.LadderMail, error)
	DelayRounds(ctx context.Context) ([]store.DelayRound, error)
	Annulments(ctx context.Context, from, to time.Time) ([]store.ReportAnnulment, error)
}

// Mailbox is a configured mailbox: its name (as the store records it)
// and its address.
type Mailbox struct {
	Name, Address string
}

// Options say what the compliance report covers.
type Options struct {
	Office    string
	From, To  time.Time // days, both included (Europe/Rome)
	By        string    // ByWeek, ByMonth, or "" for DefaultBy
	Mailboxes []Mailbox // the configuration's, in its order
	Only      string    // one mailbox's name; "" all
	Calendar  *workdays.Calendar
	// RepeatedDelays is the rules' number of late replies that flags a
	// sender (0: nobody is flagged).
	RepeatedDelays int
	Generated      time.Time
}

// Figures are the counts of one mailbox (or all) over one period (or the
// whole span).
type Figures struct {
	Received    int            // messages received (IMAP INTERNALDATE in the period)
	Protocolled int            // of them, given a protocol number
	FollowUps   int            // of them, accepted as follow-ups of an open case (no number)
	Refused     int            // of them, refused
	RefusedBy   map[string]int // refusals by reason (a message refused for two reasons counts under both)
	Ignored     int            // of them, ignored (automatic mail, PEC receipts)
	Quarantined int            // of them, quarantined (bad input)
	InTime      int            // cases answered in the period on or before their due date
	Late        int            // cases answered in the period after it
	Open        int            // cases open at the period's end: received, not yet answered or closed
	Overdue     int            // of them, past their due date
	Solleciti   int            // first-level deadline mails sent (reply and waiting ladders)
	Escalations int            // later-level deadline mails sent
	Flagged     int            // senders whose late replies reached the rules' number in the period
	Annulments  int            // protocol numbers annulled in the period
	ReplyDays   []int          // working days each answer took (InTime and Late)
}

// Compliance is the report: per mailbox and period, and in total.
type Compliance struct {
	Office         string
	From, To       time.Time
	By             string
	Generated      time.Time
	Periods        []Period
	Mailboxes      []Mailbox
	Rows           [][]Figures // [mailbox][period]
	RepeatedDelays int
	Flagged        []Flagged // senders flagged at the span's end
}

// Flagged is a sender flagged for repeated delays (REQUIREMENTS D3,
// Milan 2.G).
type Flagged struct {
	Sender    string
	Mailboxes []string
	Delays    int       // late rounds up to the span's end
	Since     time.Time // the day the rules' number was reached
}

// Build computes the compliance report from the store.
func Build(ctx context.Context, src Source, o Options) (*Compliance, error) {
	if o.By == "" {
		o.By = DefaultBy(o.From, o.To)
	}
	ps, err := Periods(o.From, o.To, o.By)
	if err != nil {
		return nil, err
	}
	if o.Calendar == nil {
		o.Calendar = workdays.New(workdays.Options{})
	}
	c := &Compliance{Office: o.Office, From: ps[0].First, To: ps[len(ps)-1].Last, By: o.By, Generated: o.Generated,
		Periods: ps, RepeatedDelays: o.RepeatedDelays}
	from, to := ps[0].Start, ps[len(ps)-1].End
	b := &builder{c: c, o: o, src: src, index: map[string]int{}}
	for _, m := range o.Mailboxes {
		if o.Only == "" || o.Only == m.Name {
			b.mailbox(m.Name, m.Address)
		}
	}
	steps := []func(context.Context, time.Time, time.Time) error{b.intake, b.cases, b.ladders, b.delays, b.annulments}
	for _, step := range steps {
		if err := step(ctx, from, to); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// builder fills a Compliance, one kind of record at a time.
type builder struct {
	c     *Compliance
	o     Options
	src   Source
	index map[string]int // mailbox name → row
}

// mailbox returns the row of a mailbox, adding one for a mailbox the
// store knows and the configuration no longer does; -1 when filtered out.
func (b *builder) mailbox(name, address string) int {
	if i, ok := b.index[name]; ok {
		return i
	}
	if b.o.Only != "" && name != b.o.Only {
		return -1
	}
	b.index[name] = len(b.c.Mailboxes)
	b.c.Mailboxes = append(b.c.Mailboxes, Mailbox{Name: name, Address: address})
	row := make([]Figures, len(b.c.Periods))
	for i := range row {
		row[i].RefusedBy = map[string]int{}
	}
	b.c.Rows = append(b.c.Rows, row)
	return b.index[name]
}

// at returns the figures of a mailbox in the period holding t, or nil.
func (b *builder) at(mailbox string, t time.Time) *Figures {
	p := periodOf(b.c.Periods, t)
	if p < 0 {
		return nil
	}
	m := b.mailbox(mailbox, "")
	if m < 0 {
		return nil
	}
	return &b.c.Rows[m][p]
}

func (b *builder) intake(ctx context.Context, from, to time.Time) error {
	msgs, err := b.src.Intake(ctx, from, to)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		f := b.at(m.Mailbox, m.ReceivedAt)
		if f == nil {
			continue
		}
		f.Received++
		switch m.Outcome {
		case "accepted": // else a number of shadow mode's register: received only
			if m.Protocolled {
				f.Protocolled++
			} else if m.FollowUp {
				f.FollowUps++
			}
		case "refused":
			f.Refused++
			for _, r := range m.Reasons {
				f.RefusedBy[r]++
			}
		case "ignored":
			f.Ignored++
		case "quarantined":
			f.Quarantined++
		}
	}
	return nil
}

func (b *builder) cases(ctx context.Context, from, to time.Time) error {
	spans, err := b.src.CaseSpans(ctx, from, to)
	if err != nil {
		return err
	}
	for _, s := range spans {
		if answered(s) {
			if f := b.at(s.Mailbox, s.RepliedAt); f != nil {
				f.ReplyDays = append(f.ReplyDays, b.o.Calendar.Between(s.ReceivedDay, s.RepliedAt))
				if clock.Day(s.RepliedAt).After(s.Due) {
					f.Late++
				} else {
					f.InTime++
				}
			}
		}
		m := b.mailbox(s.Mailbox, "")
		if m < 0 {
			continue
		}
		for p, per := range b.c.Periods {
			if s.ReceivedAt.Before(per.End) && (s.RepliedAt.IsZero() || !s.RepliedAt.Before(per.End)) {
				b.c.Rows[m][p].Open++
				if s.Due.Before(per.End) { // the due day ended within the period or before
					b.c.Rows[m][p].Overdue++
				}
			}
		}
	}
	return nil
}

// answered reports a case the office answered: a reply found in Sent, or
// closed by an operator as answered (satisfactorily or not); a withdrawn
// request is no answer.
func answered(s store.CaseSpan) bool {
	return !s.RepliedAt.IsZero() && (s.State == store.CaseAnswered ||
		s.State == store.CaseClosed && (s.Outcome == store.OutcomeAnswered || s.Outcome == store.OutcomeUnsatisfactory))
}

func (b *builder) ladders(ctx context.Context, from, to time.Time) error {
	mails, err := b.src.LadderMails(ctx, from, to)
	if err != nil {
		return err
	}
	for _, l := range mails {
		if l.Ladder != rules.LadderReply && l.Ladder != rules.LadderWaiting {
			continue // D4's notices to the Ordine and reminders to the region are neither
		}
		switch f := b.at(l.Mailbox, l.SentAt); {
		case f == nil:
		case l.Position == 0:
			f.Solleciti++
		default:
			f.Escalations++
		}
	}
	return nil
}

func (b *builder) delays(ctx context.Context, _, to time.Time) error {
	rounds, err := b.src.DelayRounds(ctx)
	if err != nil || b.o.RepeatedDelays <= 0 {
		return err
	}
	bySender := map[string][]store.DelayRound{}
	for _, r := range rounds {
		if r.Day.Before(to) {
			k := strings.ToLower(r.Sender)
			bySender[k] = append(bySender[k], r)
		}
	}
	for _, rs := range bySender {
		if len(rs) < b.o.RepeatedDelays {
			continue
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].Day.Before(rs[j].Day) })
		reached := rs[b.o.RepeatedDelays-1]
		fl := Flagged{Sender: rs[0].Sender, Delays: len(rs), Since: reached.Day}
		for _, r := range rs {
			if b.mailbox(r.Mailbox, "") >= 0 && !contains(fl.Mailboxes, r.Mailbox) {
				fl.Mailboxes = append(fl.Mailboxes, r.Mailbox)
			}
		}
		if len(fl.Mailboxes) == 0 {
			continue
		}
		b.c.Flagged = append(b.c.Flagged, fl)
		if f := b.at(reached.Mailbox, reached.Day); f != nil {
			f.Flagged++
		}
	}
	sort.Slice(b.c.Flagged, func(i, j int) bool { return b.c.Flagged[i].Sender < b.c.Flagged[j].Sender })
	return nil
}

func (b *builder) annulments(ctx context.Context, from, to time.Time) error {
	as, err := b.src.Annulments(ctx, from, to)
	if err != nil {
		return err
	}
	for _, a := range as {
		if f := b.at(a.Mailbox, a.At); f != nil {
			f.Annulments++
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
