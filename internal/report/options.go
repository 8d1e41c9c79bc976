package report

import (
	"gatewayd/internal/config"
	"gatewayd/internal/rules"
)

// Configured are the options a configuration and its rules (nil: none)
// give: the office, its mailboxes in order, the working-day calendar and
// the number of delays that flags a sender. Without rules the calendar is
// the national one.
func Configured(cfg *config.Config, r *rules.Rules) Options {
	o := Options{Office: cfg.Office.Name}
	for _, m := range cfg.Mailboxes {
		o.Mailboxes = append(o.Mailboxes, Mailbox{Name: m.Name, Address: m.Address})
	}
	if r != nil {
		o.Calendar = r.Calendar
		if r.Deadlines != nil {
			o.RepeatedDelays = r.Deadlines.RepeatedDelays
		}
	}
	return o
}
