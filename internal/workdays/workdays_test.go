package workdays

import (
	"fmt"
	"testing"
	"time"

	"gatewayd/internal/clock"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, clock.Rome) }

var ferrara = New(Options{Patron: []Day{{"San Giorgio", time.April, 23}}})
var milano = New(Options{Patron: []Day{{"Sant'Ambrogio", time.December, 7}}})

// TestHolidays_2025to2030: every national holiday of 2025–2030, on
// whatever weekday it falls, is no working day; 4 October only from 2026.
func TestHolidays_2025to2030(t *testing.T) {
	easterMonday := map[int]time.Time{2025: date(2025, 4, 21), 2026: date(2026, 4, 6), 2027: date(2027, 3, 29),
		2028: date(2028, 4, 17), 2029: date(2029, 4, 2), 2030: date(2030, 4, 22)}
	fixed := []struct {
		m time.Month
		d int
	}{{1, 1}, {1, 6}, {4, 25}, {5, 1}, {6, 2}, {8, 15}, {11, 1}, {12, 8}, {12, 25}, {12, 26}}
	for y := 2025; y <= 2030; y++ {
		days := []time.Time{easterMonday[y]}
		for _, f := range fixed {
			days = append(days, date(y, f.m, f.d))
		}
		if y >= 2026 {
			days = append(days, date(y, 10, 4))
		}
		for _, d := range days {
			if ferrara.IsWorkday(d) {
				t.Errorf("IsWorkday(%s) = true, want a holiday", d.Format("2006-01-02 Mon"))
			}
			if _, ok := ferrara.Holiday(d); !ok {
				t.Errorf("Holiday(%s) = false, want a holiday", d.Format("2006-01-02"))
			}
		}
	}
	if _, ok := ferrara.Holiday(date(2025, 10, 4)); ok {
		t.Error("4 October 2025 is a holiday, want only from 2026")
	}
}

func TestPatron(t *testing.T) {
	for _, tc := range []struct {
		cal  *Calendar
		d    time.Time
		want bool
	}{
		{ferrara, date(2027, 4, 23), false}, // San Giorgio, a Friday
		{milano, date(2027, 4, 23), true},
		{milano, date(2026, 12, 7), false}, // Sant'Ambrogio, a Monday
		{ferrara, date(2026, 12, 7), true},
		{ferrara, date(2026, 11, 21), false}, // a Saturday
		{ferrara, date(2026, 11, 23), true},  // a Monday
	} {
		if got := tc.cal.IsWorkday(tc.d); got != tc.want {
			t.Errorf("IsWorkday(%s) = %v, want %v", tc.d.Format("2006-01-02 Mon"), got, tc.want)
		}
	}
}

func TestDue(t *testing.T) {
	closed := New(Options{Patron: []Day{{"San Giorgio", time.April, 23}},
		Closures: []Closure{{"chiusura", date(2026, 11, 27)}}, Cutoff: 16 * time.Hour})
	for _, tc := range []struct {
		c    *Calendar
		at   time.Time
		n    int
		want string
	}{
		{ferrara, date(2026, 11, 16), 10, "2026-11-30"},                              // Monday: the day itself never counts
		{ferrara, date(2026, 11, 21), 10, "2026-12-07"},                              // Saturday: counts from Monday 23 (8 Dec is a holiday)
		{ferrara, date(2026, 12, 22), 10, "2027-01-08"},                              // over Christmas, New Year, Epiphany
		{milano, date(2026, 12, 1), 7, "2026-12-14"},                                 // Sant'Ambrogio and Immacolata skipped
		{ferrara, date(2026, 9, 28), 5, "2026-10-05"},                                // 4 October 2026 is a Sunday anyway
		{ferrara, date(2027, 9, 28), 5, "2027-10-06"},                                // 4 October 2027, a Monday
		{closed, date(2026, 11, 24), 3, "2026-11-30"},                                // the closure on the 27th
		{closed, time.Date(2026, 11, 24, 16, 30, 0, 0, clock.Rome), 3, "2026-12-01"}, // after the cut-off: from the 25th
		{closed, time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), 1, "2026-11-25"},   // 00:30 on the 24th in clock.Rome, before cut-off
		{ferrara, time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), 1, "2027-01-05"},  // already 1 January in clock.Rome
	} {
		if got := tc.c.Due(tc.at, tc.n).Format("2006-01-02"); got != tc.want {
			t.Errorf("Due(%s, %d) = %s, want %s", tc.at.Format(time.RFC3339), tc.n, got, tc.want)
		}
	}
}

func ExampleCalendar_Due() {
	fmt.Println(ferrara.Due(date(2026, 11, 16), 10).Format("Mon 2 Jan 2006"))
	// Output: Mon 30 Nov 2026
}

// TestStepDay: the README's example, Ferrara: received Monday 23 November
// 2026 at 10:00, 10 working days: due Monday 7 December; the sollecito the
// working day after (8 December is a holiday): Wednesday 9; the escalation
// on the working day after the 7th working day from the 9th: Monday 21.
func TestStepDay(t *testing.T) {
	c := New(Options{Patron: []Day{{Name: "San Giorgio", Month: time.April, Day: 23}}})
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, clock.Rome)
	d := c.ReceiptDay(received)
	due := c.TermEnd(d, 10)
	sollecito := c.StepDay(due, 0)
	escalation := c.StepDay(sollecito, 7)
	midnight := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, clock.Rome) }
	for name, tc := range map[string]struct{ got, want time.Time }{
		"due": {due, midnight(2026, 12, 7)}, "sollecito": {sollecito, midnight(2026, 12, 9)}, "escalation": {escalation, midnight(2026, 12, 21)},
	} {
		if !tc.got.Equal(tc.want) {
			t.Errorf("%s = %s, want %s", name, tc.got.Format("Mon 2006-01-02"), tc.want.Format("Mon 2006-01-02"))
		}
	}
	if !due.Equal(c.Due(received, 10)) {
		t.Errorf("TermEnd disagrees with Due: %s, %s", due, c.Due(received, 10))
	}
}

// TestBetween: working days from a receipt day to a reply, across a
// weekend and Ferrara's holidays (8 December, Christmas).
func TestBetween(t *testing.T) {
	for _, tc := range []struct {
		from, to time.Time
		want     int
	}{
		{date(2026, 11, 23), date(2026, 11, 23), 0}, // the same day
		{date(2026, 11, 23), date(2026, 11, 20), 0}, // before
		{date(2026, 11, 23), date(2026, 11, 24), 1},
		{date(2026, 11, 27), date(2026, 11, 30), 1}, // Friday to Monday
		{date(2026, 11, 27), date(2026, 11, 29), 0}, // Friday to Sunday
		{date(2026, 12, 4), date(2026, 12, 9), 2},   // 7 Dec counts in Ferrara, 8 Dec does not
		{date(2026, 11, 23), date(2026, 12, 7), 10}, // the README's due date
		{date(2026, 12, 23), date(2026, 12, 28), 2}, // 24 and 28; 25, 26 are holidays
		{date(2026, 12, 31), date(2027, 1, 7), 3},   // 1 and 6 January are holidays
	} {
		if got := ferrara.Between(tc.from, tc.to); got != tc.want {
			t.Errorf("Between(%s, %s) = %d, want %d", tc.from.Format("Mon 2006-01-02"), tc.to.Format("Mon 2006-01-02"), got, tc.want)
		}
	}
}
