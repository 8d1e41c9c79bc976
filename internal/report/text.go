package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gatewayd/internal/clock"
)

// Text writes the report as plain-text tables: one per mailbox (a row per
// period and the total), then all mailboxes together, the refusals by
// reason and the flagged senders.
func Text(w io.Writer, c *Compliance) error {
	fmt.Fprintf(w, "Compliance report: %s\n", c.Office)
	fmt.Fprintf(w, "Span %s to %s (Europe/Rome), by %s; generated %s.\n", c.From.Format(time.DateOnly), c.To.Format(time.DateOnly),
		c.By, c.Generated.In(clock.Rome).Format("2006-01-02 15:04"))
	fmt.Fprintln(w, "Reply times in working days of the office's calendar, from the day a mail counts as received.")
	for m, mb := range c.Mailboxes {
		fmt.Fprintf(w, "\n%s\n", mailboxTitle(mb))
		textTable(w, c, c.Rows[m], c.MailboxTotal(m))
	}
	if len(c.Mailboxes) > 1 {
		fmt.Fprintf(w, "\nAll mailboxes\n")
		all := make([]Figures, len(c.Periods))
		for p := range all {
			all[p] = c.PeriodTotal(p)
		}
		textTable(w, c, all, c.Total())
	}
	fmt.Fprintf(w, "\nRefusals by reason, whole span:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "  REASON\t")
	for _, mb := range c.Mailboxes {
		fmt.Fprintf(tw, "%s\t", mb.Name)
	}
	fmt.Fprint(tw, "ALL\t\n")
	for _, r := range c.Total().Reasons() {
		fmt.Fprintf(tw, "  %s\t", r.Code)
		for m := range c.Mailboxes {
			fmt.Fprintf(tw, "%d\t", c.MailboxTotal(m).RefusedBy[r.Code])
		}
		fmt.Fprintf(tw, "%d\t\n", r.Count)
	}
	tw.Flush()
	textFlagged(w, c)
	_, err := fmt.Fprint(w, "\n"+legend)
	return err
}

const legend = `RECV received, PROT protocolled, FUP follow-ups (accepted, no number), REF refused, IGN ignored, QUAR quarantined;
IN TIME / LATE cases answered in the period on or before / after their due date; OPEN / OVERDUE cases open at the
period's end / of them past their due date (TOTAL: at the span's end); SOLL / ESC solleciti / escalations sent;
MEDIAN / P90 reply time in working days; FLAGGED senders flagged for repeated delays; ANNUL protocol numbers annulled.
`

func textTable(w io.Writer, c *Compliance, rows []Figures, total Figures) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "PERIOD\tFROM\tTO\tRECV\tPROT\tFUP\tREF\tIGN\tQUAR\tIN TIME\tLATE\tOPEN\tOVERDUE\tSOLL\tESC\tMEDIAN\tP90\tFLAGGED\tANNUL\t\n")
	for p, per := range c.Periods {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", per.Label, per.First.Format(time.DateOnly), per.Last.Format(time.DateOnly), textCells(c, rows[p]))
	}
	fmt.Fprintf(tw, "TOTAL\t%s\t%s\t%s\n", c.From.Format(time.DateOnly), c.To.Format(time.DateOnly), textCells(c, total))
	tw.Flush()
}

func textCells(c *Compliance, f Figures) string {
	cells := []int{f.Received, f.Protocolled, f.FollowUps, f.Refused, f.Ignored, f.Quarantined, f.InTime, f.Late, f.Open,
		f.Overdue, f.Solleciti, f.Escalations}
	var b strings.Builder
	for _, v := range cells {
		b.WriteString(strconv.Itoa(v) + "\t")
	}
	b.WriteString(MedianText(f) + "\t" + P90Text(f) + "\t" + strconv.Itoa(f.Flagged) + "\t")
	b.WriteString(strconv.Itoa(f.Annulments) + "\t")
	return b.String()
}

func textFlagged(w io.Writer, c *Compliance) {
	switch {
	case c.RepeatedDelays <= 0:
		fmt.Fprintln(w, "\nSenders flagged for repeated delays: the rules set no number of delays (attesa.ritardi_ripetuti).")
		return
	case len(c.Flagged) == 0:
		fmt.Fprintf(w, "\nSenders flagged for repeated delays (%d or more late replies to the office's requests): none.\n", c.RepeatedDelays)
		return
	}
	fmt.Fprintf(w, "\nSenders flagged for repeated delays (%d or more late replies to the office's requests), at %s:\n",
		c.RepeatedDelays, c.To.Format(time.DateOnly))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range c.Flagged {
		fmt.Fprintf(tw, "  %s\t%d delays\tsince %s\t%s\n", f.Sender, f.Delays, f.Since.Format(time.DateOnly), strings.Join(f.Mailboxes, ", "))
	}
	tw.Flush()
}

func mailboxTitle(mb Mailbox) string {
	if mb.Address == "" {
		return mb.Name
	}
	return mb.Name + " (" + mb.Address + ")"
}

// MedianText is the median reply time for a table: one decimal at most,
// "-" without answers.
func MedianText(f Figures) string {
	v, ok := f.Median()
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// P90Text is the 90th percentile for a table, "-" without answers.
func P90Text(f Figures) string {
	v, ok := f.P90()
	if !ok {
		return "-"
	}
	return strconv.Itoa(v)
}
