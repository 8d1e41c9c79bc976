// Package workdays is the Italian working-day calendar of one office
// (REQUIREMENTS D1, D6): Monday to Friday, less the national holidays
// (rickar/cal's Italy, plus 4 October from 2026 under L. 151/2025), the
// patron saint of the office's city, and the closures operators add. Dates
// are in Europe/clock.Rome.
package workdays

import (
	"time"

	"gatewayd/internal/clock"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/it"
)

// SanFrancesco is the national holiday of 4 October, observed from 2026
// (L. 151/2025); rickar/cal does not list it yet.
var SanFrancesco = &cal.Holiday{Name: "San Francesco d'Assisi", Type: cal.ObservancePublic,
	Month: time.October, Day: 4, Func: cal.CalcDayOfMonth, StartYear: 2026}

// Day is a yearly holiday of the office (the patron saint) by month and day.
type Day struct {
	Name  string
	Month time.Month
	Day   int
}

// Closure is one date the office is closed.
type Closure struct {
	Name string
	Date time.Time // any time that day, read in Europe/clock.Rome
}

// Options describe an office's calendar.
type Options struct {
	Patron   []Day
	Closures []Closure
	// Cutoff is the time of day after which a mail counts as received on
	// the next working day (0: no cut-off).
	Cutoff time.Duration
}

// Calendar answers working-day questions for one office. It is safe for
// concurrent use.
type Calendar struct {
	bc     *cal.BusinessCalendar
	cutoff time.Duration
}

// New builds an office's calendar.
func New(o Options) *Calendar {
	bc := cal.NewBusinessCalendar()
	bc.AddHoliday(it.Holidays...)
	bc.AddHoliday(SanFrancesco)
	for _, p := range o.Patron {
		bc.AddHoliday(&cal.Holiday{Name: p.Name, Type: cal.ObservanceOther, Month: p.Month, Day: p.Day, Func: cal.CalcDayOfMonth})
	}
	for _, c := range o.Closures {
		y, m, d := c.Date.In(clock.Rome).Date()
		bc.AddHoliday(&cal.Holiday{Name: c.Name, Type: cal.ObservanceOther, Month: m, Day: d,
			Func: cal.CalcDayOfMonth, StartYear: y, EndYear: y})
	}
	return &Calendar{bc: bc, cutoff: o.Cutoff}
}

// day returns midnight of t's date in Europe/clock.Rome.
func day(t time.Time) time.Time {
	y, m, d := t.In(clock.Rome).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, clock.Rome)
}

// IsWorkday reports whether t's date (Europe/clock.Rome) is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.bc.IsWorkday(day(t)) }

// Holiday returns the name of the holiday or closure on t's date, if any.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	act, obs, h := c.bc.IsHoliday(day(t))
	if (act || obs) && h != nil {
		return h.Name, true
	}
	return "", false
}

// ReceiptDay is the day a mail received at t counts as received: its date,
// or the next working day when that date is not a working day or t is
// after the cut-off (D6).
func (c *Calendar) ReceiptDay(t time.Time) time.Time {
	d := day(t)
	late := c.cutoff > 0 && t.In(clock.Rome).Sub(d) >= c.cutoff
	if c.bc.IsWorkday(d) && !late {
		return d
	}
	return c.next(d)
}

// next returns the first working day strictly after d.
func (c *Calendar) next(d time.Time) time.Time {
	for {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, clock.Rome)
		if c.bc.IsWorkday(d) {
			return d
		}
	}
}

// Due returns the n-th working day strictly after the receipt day of a
// mail received at t (D1): the receipt day never counts.
func (c *Calendar) Due(t time.Time, n int) time.Time {
	d := c.ReceiptDay(t)
	for i := 0; i < n; i++ {
		d = c.next(d)
	}
	return d
}

// NextWorkday returns the first working day strictly after d's date.
func (c *Calendar) NextWorkday(d time.Time) time.Time { return c.next(day(d)) }

// TermEnd is the last day of a term of n working days from day d (d is
// day 0): the n-th working day after it; d itself for n = 0.
func (c *Calendar) TermEnd(d time.Time, n int) time.Time { return c.AddWorkdays(d, n) }

// StepDay is the day a step is taken after a term of n working days from
// day d: the first working day after the term ends (the README's rule).
func (c *Calendar) StepDay(d time.Time, n int) time.Time { return c.next(c.TermEnd(d, n)) }

// AddWorkdays returns the n-th working day strictly after d's date.
func (c *Calendar) AddWorkdays(d time.Time, n int) time.Time {
	d = day(d)
	for i := 0; i < n; i++ {
		d = c.next(d)
	}
	return d
}

// Between counts the working days after from's date up to and including
// to's date (Europe/Rome): how many working days a reply took from the day
// a mail counts as received. It is 0 when to's date is not after from's.
func (c *Calendar) Between(from, to time.Time) int {
	n := 0
	for d, end := day(from), day(to); ; n++ {
		if d = c.next(d); d.After(end) {
			return n
		}
	}
}
