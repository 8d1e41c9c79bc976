package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"gatewayd/internal/clock"
)

//go:embed compliance.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("compliance").Parse(htmlSource))

// htmlPage is what the HTML template shows.
type htmlPage struct {
	Title, Office, Span, By, Generated string
	Heads                              []string   // the per-period tables' columns
	Columns                            []string   // the totals table's: each mailbox, then all
	Totals                             []htmlLine // one line per figure
	Charts                             []svgChart
	Mailboxes                          []htmlMailbox
	Flagged                            []Flagged
	RepeatedDelays                     int
	To                                 string
}

type htmlLine struct {
	Label, Sub string
	Cells      []string
}

type htmlMailbox struct {
	Title string
	Rows  []htmlLine // one per period, then the total
}

// periodHeads are the columns of the per-period tables.
var periodHeads = []string{"Recv.", "Prot.", "Follow-ups", "Refused", "Ignored", "Quar.", "In time", "Late", "Open", "Overdue",
	"Soll.", "Escal.", "Median", "P90", "Flagged", "Annulled"}

// HTML writes the report as one self-contained HTML page (inline CSS and
// SVG, no script, nothing fetched) laid out for A4 paper: the totals, the
// charts, a table per mailbox, the flagged senders and how to read it.
func HTML(w io.Writer, c *Compliance) error {
	pg := htmlPage{Office: c.Office, By: c.By, Heads: periodHeads, Flagged: c.Flagged, RepeatedDelays: c.RepeatedDelays,
		To:        c.To.Format("02/01/2006"),
		Span:      c.From.Format("02/01/2006") + " – " + c.To.Format("02/01/2006"),
		Generated: c.Generated.In(clock.Rome).Format("02/01/2006 15:04"),
		Charts:    []svgChart{activityChart(c), refusalsChart(c), replyChart(c)}}
	pg.Title = fmt.Sprintf("Compliance report %s, %s", c.Office, pg.Span)
	totals := make([]Figures, len(c.Mailboxes))
	for m, mb := range c.Mailboxes {
		pg.Columns = append(pg.Columns, mb.Name)
		totals[m] = c.MailboxTotal(m)
		pg.Mailboxes = append(pg.Mailboxes, htmlMailbox{Title: mailboxTitle(mb), Rows: periodLines(c, c.Rows[m], totals[m])})
	}
	if len(c.Mailboxes) != 1 {
		pg.Columns = append(pg.Columns, "All")
		totals = append(totals, c.Total())
	}
	pg.Totals = totalLines(c, totals)
	if err := htmlTemplate.Execute(w, pg); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

// totalLines is the totals table: one line per figure, a cell per column.
func totalLines(c *Compliance, cols []Figures) []htmlLine {
	lines := []struct {
		label string
		cell  func(Figures) string
	}{
		{"Received", func(f Figures) string { return strconv.Itoa(f.Received) }},
		{"Protocolled", func(f Figures) string { return strconv.Itoa(f.Protocolled) }},
		{"Follow-ups (accepted, no new number)", func(f Figures) string { return strconv.Itoa(f.FollowUps) }},
		{"Refused", func(f Figures) string { return strconv.Itoa(f.Refused) }},
		{"Ignored (automatic mail, receipts)", func(f Figures) string { return strconv.Itoa(f.Ignored) }},
		{"Quarantined (unreadable)", func(f Figures) string { return strconv.Itoa(f.Quarantined) }},
		{"Answered in time", func(f Figures) string { return strconv.Itoa(f.InTime) }},
		{"Answered late", func(f Figures) string { return strconv.Itoa(f.Late) }},
		{"Share answered in time", inTimeShare},
		{"Open at " + c.To.Format("02/01/2006"), func(f Figures) string { return strconv.Itoa(f.Open) }},
		{"of which overdue", func(f Figures) string { return strconv.Itoa(f.Overdue) }},
		{"Solleciti sent", func(f Figures) string { return strconv.Itoa(f.Solleciti) }},
		{"Escalations sent", func(f Figures) string { return strconv.Itoa(f.Escalations) }},
		{"Median reply time (working days)", MedianText},
		{"90th percentile reply time (working days)", P90Text},
		{"Senders flagged for delays", func(f Figures) string { return strconv.Itoa(f.Flagged) }},
		{"Protocol numbers annulled", func(f Figures) string { return annulled(c, f) }},
	}
	out := make([]htmlLine, len(lines))
	for i, l := range lines {
		out[i].Label = l.label
		for _, f := range cols {
			out[i].Cells = append(out[i].Cells, l.cell(f))
		}
	}
	return out
}

func inTimeShare(f Figures) string {
	if f.InTime+f.Late == 0 {
		return "-"
	}
	return strconv.Itoa(int(100*float64(f.InTime)/float64(f.InTime+f.Late)+0.5)) + " %"
}

func annulled(c *Compliance, f Figures) string {
	return strconv.Itoa(f.Annulments)
}

// periodLines are a mailbox's table: a line per period, then the total.
func periodLines(c *Compliance, rows []Figures, total Figures) []htmlLine {
	var out []htmlLine
	for p, per := range c.Periods {
		out = append(out, htmlLine{Label: per.Label, Sub: per.First.Format("02/01") + "–" + per.Last.Format("02/01"),
			Cells: periodCells(c, rows[p])})
	}
	return append(out, htmlLine{Label: "Total", Cells: periodCells(c, total)})
}

func periodCells(c *Compliance, f Figures) []string {
	cells := strings.Fields(fmt.Sprint(f.Received, f.Protocolled, f.FollowUps, f.Refused, f.Ignored, f.Quarantined, f.InTime,
		f.Late, f.Open, f.Overdue, f.Solleciti, f.Escalations))
	return append(cells, MedianText(f), P90Text(f), strconv.Itoa(f.Flagged), annulled(c, f))
}
