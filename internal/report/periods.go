package report

import (
	"fmt"
	"sort"
	"time"

	"gatewayd/internal/clock"
)

// Period lengths of the compliance report.
const (
	ByWeek  = "week"
	ByMonth = "month"
)

// Period is a span of whole days (Europe/Rome) of the report: an ISO week
// (Monday to Sunday) or a calendar month, cut to the report's span.
type Period struct {
	Label      string    // 2026-W49, 2026-12
	First      time.Time // its first day, midnight Europe/Rome
	Last       time.Time // its last day, midnight Europe/Rome
	Start, End time.Time // [Start, End): the instants it covers
}

// DefaultBy is the period length for the days from..to: a month when
// they are more than 62, else a week.
func DefaultBy(from, to time.Time) string {
	if Days(from, to) > 62 {
		return ByMonth
	}
	return ByWeek
}

// Days counts the calendar days from..to (Europe/Rome), both included:
// by dates, so that a change of daylight saving time changes nothing.
func Days(from, to time.Time) int {
	utc := func(t time.Time) time.Time {
		y, m, d := t.In(clock.Rome).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(utc(to).Sub(utc(from))/(24*time.Hour)) + 1
}

// Periods cuts the days from..to (inclusive, Europe/Rome) into weeks or
// months.
func Periods(from, to time.Time, by string) ([]Period, error) {
	first, last := clock.Day(from), clock.Day(to)
	if last.Before(first) {
		return nil, fmt.Errorf("the span ends (%s) before it begins (%s)", last.Format(time.DateOnly), first.Format(time.DateOnly))
	}
	if by != ByWeek && by != ByMonth {
		return nil, fmt.Errorf("unknown period %q: week or month", by)
	}
	var out []Period
	for d := first; !d.After(last); {
		next := nextStart(d, by)
		p := Period{First: d, Last: addDays(next, -1), Start: d, End: next}
		if p.Last.After(last) {
			p.Last, p.End = last, addDays(last, 1)
		}
		p.Label = label(d, by)
		out = append(out, p)
		d = next
	}
	return out, nil
}

// nextStart is the first day of the week or month after d's.
func nextStart(d time.Time, by string) time.Time {
	if by == ByMonth {
		return time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, clock.Rome)
	}
	wd := (int(d.Weekday()) + 6) % 7 // Monday 0
	return addDays(d, 7-wd)
}

func label(d time.Time, by string) string {
	if by == ByMonth {
		return d.Format("2006-01")
	}
	y, w := d.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// addDays moves a midnight of Europe/Rome by n calendar days (never by
// 24-hour steps, which daylight saving time would break).
func addDays(d time.Time, n int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day()+n, 0, 0, 0, 0, clock.Rome)
}

// periodOf returns the index of the period holding instant t, or -1.
func periodOf(ps []Period, t time.Time) int {
	i := sort.Search(len(ps), func(i int) bool { return t.Before(ps[i].End) })
	if i == len(ps) || t.Before(ps[i].Start) {
		return -1
	}
	return i
}
