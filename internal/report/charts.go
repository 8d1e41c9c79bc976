package report

import (
	"fmt"
	"math"
	"strconv"
)

// svgChart is an inline SVG chart, drawn by the HTML template from plain
// shapes: no script, no external resource.
type svgChart struct {
	ID, Title, Caption string
	W, H               float64
	Rects              []svgRect
	Lines              []svgLine
	Texts              []svgText
	Legend             []svgLegend
}

type svgRect struct {
	X, Y, W, H  float64
	Fill, Class string
	Tip         string // the <title> a viewer shows on hover
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Stroke, Dash   string
}

type svgText struct {
	X, Y         float64
	Anchor, Text string
	Class        string
}

type svgLegend struct {
	Fill, Text string
}

// Colours of the charts (distinct in grey print too).
const (
	colReceived = "#5b7fa6"
	colInTime   = "#3f8f5a"
	colLate     = "#c8553d"
	colRefused  = "#a8743a"
	colAxis     = "#888888"
	colGrid     = "#dddddd"
)

const chartW = 680.0

// niceMax is the top of an axis holding v: 1, 2 or 5 times a power of
// ten, with its tick step.
func niceMax(v int) (top, step float64) {
	if v <= 0 {
		return 1, 1
	}
	raw := float64(v) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	step = math.Max(1, math.Ceil(step))
	return math.Ceil(float64(v)/step) * step, step
}

// yAxis draws the horizontal grid lines and their labels of a vertical
// axis from 0 to top, the plot spanning x0..x1 and y0 (top) .. y1 (0).
func yAxis(ch *svgChart, top, step, x0, x1, y0, y1 float64) {
	for v := 0.0; v <= top+step/2; v += step {
		y := y1 - (y1-y0)*v/top
		col := colGrid
		if v == 0 {
			col = colAxis
		}
		ch.Lines = append(ch.Lines, svgLine{X1: x0, Y1: y, X2: x1, Y2: y, Stroke: col})
		ch.Texts = append(ch.Texts, svgText{X: x0 - 4, Y: y + 3, Anchor: "end", Text: strconv.Itoa(int(v))})
	}
}

// activityChart: per period, the mails received beside the cases answered
// in time and late.
func activityChart(c *Compliance) svgChart {
	ch := svgChart{ID: "chart-activity", Title: "Received, answered in time and answered late, by " + c.By, W: chartW, H: 250,
		Caption: "All selected mailboxes. Answers are counted in the period of the reply.",
		Legend:  []svgLegend{{colReceived, "received"}, {colInTime, "answered in time"}, {colLate, "answered late"}}}
	x0, x1, y0, y1 := 40.0, chartW-10, 12.0, 200.0
	peak := 0
	totals := make([]Figures, len(c.Periods))
	for p := range c.Periods {
		totals[p] = c.PeriodTotal(p)
		peak = max(peak, totals[p].Received, totals[p].InTime, totals[p].Late)
	}
	top, step := niceMax(peak)
	yAxis(&ch, top, step, x0, x1, y0, y1)
	group := (x1 - x0) / float64(len(c.Periods))
	bar := math.Min(24, group*0.8/3)
	every := int(math.Ceil(float64(len(c.Periods)) / 14)) // at most 14 labels
	for p, per := range c.Periods {
		gx := x0 + group*float64(p) + (group-3*bar)/2
		for i, s := range []struct {
			v    int
			fill string
			what string
		}{{totals[p].Received, colReceived, "received"}, {totals[p].InTime, colInTime, "answered in time"}, {totals[p].Late, colLate, "answered late"}} {
			h := (y1 - y0) * float64(s.v) / top
			ch.Rects = append(ch.Rects, svgRect{X: gx + bar*float64(i), Y: y1 - h, W: bar - 1, H: h, Fill: s.fill, Class: "bar",
				Tip: fmt.Sprintf("%s: %d %s", per.Label, s.v, s.what)})
		}
		if p%every == 0 {
			ch.Texts = append(ch.Texts, svgText{X: x0 + group*(float64(p)+0.5), Y: y1 + 14, Anchor: "middle", Text: per.Label},
				svgText{X: x0 + group*(float64(p)+0.5), Y: y1 + 26, Anchor: "middle", Text: per.First.Format("02/01"), Class: "small"})
		}
	}
	return ch
}

// refusalsChart: the refusals of the span by reason, horizontal bars.
func refusalsChart(c *Compliance) svgChart {
	rs := c.Total().Reasons()
	ch := svgChart{ID: "chart-refusals", Title: "Refusals by reason", W: chartW, H: 40 + 20*float64(max(len(rs), 1)),
		Caption: "All selected mailboxes, whole span. A mail refused for two reasons counts under both."}
	x0, x1, y0 := 190.0, chartW-40, 8.0
	if len(rs) == 0 {
		ch.Texts = append(ch.Texts, svgText{X: x0, Y: y0 + 14, Text: "No refusals in the span."})
		return ch
	}
	top, step := niceMax(rs[0].Count)
	y1 := y0 + 20*float64(len(rs))
	for v := 0.0; v <= top+step/2; v += step {
		x := x0 + (x1-x0)*v/top
		ch.Lines = append(ch.Lines, svgLine{X1: x, Y1: y0, X2: x, Y2: y1, Stroke: colGrid})
		ch.Texts = append(ch.Texts, svgText{X: x, Y: y1 + 13, Anchor: "middle", Text: strconv.Itoa(int(v))})
	}
	for i, r := range rs {
		y := y0 + 20*float64(i)
		w := (x1 - x0) * float64(r.Count) / top
		ch.Rects = append(ch.Rects, svgRect{X: x0, Y: y + 3, W: w, H: 14, Fill: colRefused, Class: "bar", Tip: fmt.Sprintf("%s: %d", r.Code, r.Count)})
		ch.Texts = append(ch.Texts, svgText{X: x0 - 6, Y: y + 14, Anchor: "end", Text: r.Code},
			svgText{X: x0 + w + 4, Y: y + 14, Text: strconv.Itoa(r.Count)})
	}
	ch.Lines = append(ch.Lines, svgLine{X1: x0, Y1: y0, X2: x0, Y2: y1, Stroke: colAxis})
	return ch
}

// histogramCap is the last bin of the reply-time histogram: that many
// working days or more.
const histogramCap = 20

// replyChart: how many answers took 0, 1, 2, … working days, with the
// median and the 90th percentile marked.
func replyChart(c *Compliance) svgChart {
	t := c.Total()
	ch := svgChart{ID: "chart-reply-times", Title: "Reply time in working days", W: chartW, H: 240,
		Caption: "All selected mailboxes: the answers given in the span, by working days from the day the mail counts as received."}
	x0, x1, y0, y1 := 40.0, chartW-10, 24.0, 200.0
	last := 0
	for _, d := range t.ReplyDays {
		last = max(last, min(d, histogramCap))
	}
	last = max(last, 10)
	bins := make([]int, last+1)
	for _, d := range t.ReplyDays {
		bins[min(d, histogramCap)]++
	}
	peak := 0
	for _, n := range bins {
		peak = max(peak, n)
	}
	top, step := niceMax(peak)
	yAxis(&ch, top, step, x0, x1, y0, y1)
	w := (x1 - x0) / float64(len(bins))
	for d, n := range bins {
		label := strconv.Itoa(d)
		if d == histogramCap {
			label += "+"
		}
		h := (y1 - y0) * float64(n) / top
		ch.Rects = append(ch.Rects, svgRect{X: x0 + w*float64(d) + 1, Y: y1 - h, W: w - 2, H: h, Fill: colReceived, Class: "bar",
			Tip: fmt.Sprintf("%s working days: %d answers", label, n)})
		ch.Texts = append(ch.Texts, svgText{X: x0 + w*(float64(d)+0.5), Y: y1 + 14, Anchor: "middle", Text: label})
	}
	ch.Texts = append(ch.Texts, svgText{X: (x0 + x1) / 2, Y: y1 + 30, Anchor: "middle", Text: "working days", Class: "small"})
	if m, ok := t.Median(); ok {
		p, _ := t.P90()
		for i, mk := range []struct {
			v    float64
			what string
		}{{m, "median " + MedianText(t)}, {float64(min(p, histogramCap)), "90th percentile " + P90Text(t)}} {
			x, y := x0+w*(mk.v+0.5), 9+10*float64(i) // the two labels on two lines: they may stand close
			ch.Lines = append(ch.Lines, svgLine{X1: x, Y1: y - 7, X2: x, Y2: y1, Stroke: "#222222", Dash: "4 3"})
			label := svgText{X: x + 3, Y: y, Text: mk.what, Class: "small"}
			if x > x1-100 { // near the right edge: the label stands left of its line
				label.X, label.Anchor = x-3, "end"
			}
			ch.Texts = append(ch.Texts, label)
		}
	}
	return ch
}
