package deadlines_test

import (
	"testing"
	"time"

	"gatewayd/internal/deadlines"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv/gateway"
)

// TestReplyPlan_holidays dates both offices' ladders across holidays (a
// scenario through Dovecot cannot: Dovecot takes no INTERNALDATE in the
// future). Ferrara, Friday 24 Sep 2027 11:00 with Monday 4 Oct (San
// Francesco) inside: due Monday 11 Oct, sollecito Tuesday 12, escalation
// Friday 22. Milan, Friday 4 Dec 2026 with 7 (Sant'Ambrogio) and 8 Dec:
// due Thursday 17, then 18 Dec, 31 Dec, 11 Jan 2027.
func TestReplyPlan_holidays(t *testing.T) {
	for _, tc := range []struct {
		office, mailbox string
		at              time.Time
		due             string
		steps           []string
	}{
		{"ferrara", "GestioneCredito.Ferrara@inps.it", rome(2027, 9, 24, 11, 0), "2027-10-11", []string{"2027-10-12", "2027-10-22"}},
		{"milano", "Direzione.milanonord@inps.it", rome(2026, 12, 4, 10, 0), "2026-12-17", []string{"2026-12-18", "2026-12-31", "2027-01-11"}},
		{"milano", "preavvisodiaccertamento.legnano@inps.it", rome(2026, 12, 4, 10, 0), "2026-12-15", []string{"2026-12-16", "2026-12-29", "2027-01-11"}},
	} {
		r, err := rules.Load(gateway.Root() + "/rules/" + tc.office)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := r.Mailbox(tc.mailbox)
		p := deadlines.ReplyPlan(r, m, tc.at, "studio@example.it")
		var got []string
		for _, s := range p.Steps {
			got = append(got, s.Date.Format(time.DateOnly))
		}
		if p.Due.Format(time.DateOnly) != tc.due || len(got) != len(tc.steps) || got[0] != tc.steps[0] || got[len(got)-1] != tc.steps[len(tc.steps)-1] {
			t.Errorf("%s %s: due %s steps %v, want %s %v", tc.office, tc.mailbox, p.Due.Format(time.DateOnly), got, tc.due, tc.steps)
		}
	}
}

// TestWindow: deadline mails (and their retries) leave only on working
// days in office hours; answers at any time.
func TestWindow(t *testing.T) {
	r, err := rules.Load(gateway.Root() + "/rules/ferrara")
	if err != nil {
		t.Fatal(err)
	}
	notice := store.OutboxItem{Case: 1}
	for _, tc := range []struct{ now, want time.Time }{
		{rome(2026, 12, 9, 10, 0), rome(2026, 12, 9, 10, 0)},  // Wednesday morning: now
		{rome(2026, 12, 9, 7, 0), rome(2026, 12, 9, 8, 0)},    // before opening: 08:00
		{rome(2026, 12, 9, 19, 0), rome(2026, 12, 10, 8, 0)},  // evening: the next morning
		{rome(2026, 12, 7, 19, 0), rome(2026, 12, 9, 8, 0)},   // Monday evening, 8 Dec a holiday
		{rome(2026, 12, 12, 11, 0), rome(2026, 12, 14, 8, 0)}, // Saturday: Monday
	} {
		if got := deadlines.Window(r, notice, tc.now); !got.Equal(tc.want) {
			t.Errorf("Window(%s) = %s, want %s", tc.now, got, tc.want)
		}
	}
	if now := rome(2026, 12, 12, 23, 0); !deadlines.Window(r, store.OutboxItem{}, now).Equal(now) {
		t.Error("an answer was held")
	}
}
