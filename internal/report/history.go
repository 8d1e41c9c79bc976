// Package report renders what the store records for operators.
package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"gatewayd/internal/clock"

	"gatewayd/internal/store"
)

// History prints a message and its events, times in Europe/Rome.
func History(w io.Writer, m store.Message, evs []store.Event) {
	label := m.Protocol
	if label == "" {
		label = "(no protocol number)"
	}
	outcome := m.Outcome
	if m.Reasons != "" && m.Reasons != "[]" {
		outcome += " " + m.Reasons
	}
	fmt.Fprintf(w, "protocol:   %s\nmessage-id: %s\nmailbox:    %s\nreceived:   %s\noutcome:    %s\nsha256:     %s (%d bytes as stored)\n\n",
		label, m.MessageID, m.Mailbox, rome(m.ReceivedAt), outcome, m.SHA256, m.Size)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (Europe/Rome)\tMAILBOX\tEVENT\tDETAIL")
	for _, e := range evs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", rome(e.At), e.Mailbox, e.Kind, e.Detail)
	}
	tw.Flush()
}

func rome(t time.Time) string { return t.In(clock.Rome).Format("2006-01-02 15:04:05.000") }
