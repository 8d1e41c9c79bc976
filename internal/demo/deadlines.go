package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/memimap"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/store"
)

// deadlineDemo shows the other half of the product on a simulated clock:
// one case closed by a reply the office puts in its Sent folder, another
// left unanswered, which gets its sollecito and then its escalation on
// the days the rules give.
type deadlineDemo struct {
	w    io.Writer
	d    *daemon.Daemon
	cfg  *config.Config
	srv  *memimap.Server
	sink *smtpsink.Sink
	clk  *clock.Shifted
	dir  string
	kept bool // the state stays after the demo (-state DIR)
	ct   *store.CaseTool
}

func (x *deadlineDemo) run(ctx context.Context) error {
	ct, err := store.OpenCaseTool(x.dir, x.clk.Now)
	if err != nil {
		return err
	}
	defer ct.Close()
	x.ct = ct
	cases, err := ct.Cases(ctx, "", "", 100)
	if err != nil {
		return err
	}
	late, replied := pick(cases, "gestione-credito"), pick(cases, "anagrafica-flussi")
	if late == nil || replied == nil {
		return fmt.Errorf("the demo's cases were not opened")
	}
	fmt.Fprintf(x.w, "\nDeadlines, on a simulated clock (working days of Ferrara; every step at 08:30 Europe/Rome):\n\n")
	if err := x.reply(ctx, *replied); err != nil {
		return err
	}
	r := x.d.Office().Rules
	m, _ := r.Mailbox(late.Address)
	plan := deadlines.Dates(r, r.Deadlines.Ladder("risposta", m), m, deadlines.Anchors{Receipt: late.ReceivedDay, Due: late.Due}, late.Sender)
	fmt.Fprintf(x.w, "  %s (%s) received %s, due %s: nobody answers it.\n", late.Protocol, late.Mailbox,
		late.ReceivedDay.Format("02/01/2006"), late.Due.Format("02/01/2006"))
	for i, st := range plan {
		at := deadlines.At(r, st.Date)
		x.clk.JumpTo(at)
		if _, err := x.d.Deadlines().Pass(ctx); err != nil {
			return err
		}
		subj, rcpt, err := x.waitNotice(late.Protocol, i+1)
		if err != nil {
			return err
		}
		fmt.Fprintf(x.w, "  clock → %s: %q\n      sent to %s\n", at.In(clock.Rome).Format("Mon 02/01/2006 15:04"), subj, strings.Join(rcpt, ", "))
	}
	fmt.Fprintf(x.w, "  (every other open case takes the same steps on its own dates: see the list below)\n\n")
	if err := x.printCases(ctx); err != nil {
		return err
	}
	if err := x.registers(ctx); err != nil {
		return err
	}
	return x.writeReport(ctx)
}

func pick(cases []store.Case, mailbox string) *store.Case {
	for i := range cases {
		if cases[i].Mailbox == mailbox {
			return &cases[i]
		}
	}
	return nil
}

// reply puts the office's reply to a case into the mailbox's Sent folder
// and waits for the Sent watcher to close the case.
func (x *deadlineDemo) reply(ctx context.Context, c store.Case) error {
	var orig string
	if err := x.ct.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		f, err := tx.CaseFacts(ctx, c)
		orig = f.MessageID
		return err
	}); err != nil {
		return err
	}
	user := ""
	for _, m := range x.cfg.Mailboxes {
		if m.Name == c.Mailbox {
			user = m.IMAP.User
		}
	}
	if err := x.until(func() bool { _, _, ok, _ := x.d.Store().SentState(ctx, c.Mailbox); return ok }); err != nil {
		return fmt.Errorf("the Sent watcher did not start: %w", err)
	}
	at := x.d.Office().Rules.Calendar.AddWorkdays(c.ReceivedDay, 2).Add(11 * time.Hour)
	raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: pratica %s\r\nDate: %s\r\nMessage-ID: <risposta.%d@inps.it>\r\n"+
		"In-Reply-To: <%s>\r\n\r\nGentile professionista, la pratica è stata definita.\r\n", c.Address, c.Sender, c.Protocol,
		at.Format(time.RFC1123Z), c.ID, orig)
	if err := x.srv.AppendAt(user, "Sent", []byte(raw), at); err != nil {
		return err
	}
	if err := x.until(func() bool { k, _, _ := x.ct.Case(ctx, c.Protocol); return k.State == store.CaseAnswered }); err != nil {
		return fmt.Errorf("the reply in Sent did not close %s: %w", c.Protocol, err)
	}
	fmt.Fprintf(x.w, "  %s (%s): the office's reply, put in its Sent folder, closes the case as answered (%s).\n",
		c.Protocol, c.Mailbox, at.In(clock.Rome).Format("02/01/2006 15:04"))
	return nil
}

// waitNotice waits for the n-th deadline mail about a case in the SMTP sink.
func (x *deadlineDemo) waitNotice(protocol string, n int) (string, []string, error) {
	var subj string
	var rcpt []string
	err := x.until(func() bool {
		i := 0
		for _, m := range x.sink.Messages() {
			r, err := mail.CreateReader(bytes.NewReader(m.Raw))
			if err != nil || r.Header.Get("Auto-Submitted") != "auto-generated" {
				continue
			}
			if s, _ := r.Header.Subject(); !strings.Contains(s, protocol) {
				continue
			}
			if i++; i == n {
				subj, _ = r.Header.Subject()
				rcpt = m.To
				return true
			}
		}
		return false
	})
	return subj, rcpt, err
}

func (x *deadlineDemo) until(cond func() bool) error {
	for t0 := time.Now(); time.Since(t0) < 20*time.Second; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return nil
		}
	}
	return fmt.Errorf("not within 20s")
}

// printCases prints the cases as gatewayd cases list does.
func (x *deadlineDemo) printCases(ctx context.Context) error {
	cases, err := x.ct.Cases(ctx, "", "", 100)
	if err != nil {
		return err
	}
	fmt.Fprintf(x.w, "The cases (gatewayd cases --config %s/gatewayd.yaml list):\n\n", x.dir)
	tw := tabwriter.NewWriter(x.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROTOCOL\tMAILBOX\tRECEIVED\tDUE\tSTATE\tLEVEL\tSENDER")
	for _, c := range cases {
		level := c.Level
		if level == "" {
			level = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Protocol, c.Mailbox, c.ReceivedDay.Format(time.DateOnly),
			c.Due.Format(time.DateOnly), c.State, level, c.Sender)
	}
	return tw.Flush()
}
