package daemon

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"gatewayd/internal/config"
)

// Reload reads the configuration again (when LoadConfig is set), then the
// rules and templates of its rules_dir, and swaps them in. If anything is
// wrong it logs every error and keeps what is in force. Otherwise the
// mailboxes whose settings changed have their loops stopped after the
// batch in hand and started anew, removed ones are stopped, added ones
// started; the outbox takes the new accounts and pacing. What only a
// restart can change (state_dir, office.code, protocol.format, log,
// shadow, http, register) is logged and keeps its value in force.
func (d *Daemon) Reload() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.Current()
	next := old
	if d.LoadConfig != nil {
		c, err := d.LoadConfig()
		if err != nil {
			d.logErrors("configuration reload failed: keeping the configuration and rules in force", err)
			return err
		}
		next = c
		d.keepRestartOnly(old, next)
	}
	r, t, err := LoadOffice(next)
	if err != nil {
		d.logErrors("reload failed: keeping the configuration and rules in force", err)
		return err
	}
	// The loops of removed and changed mailboxes finish their batch in
	// hand under the rules they started it with.
	restart := d.stopChanged(next)
	d.office.Store(newOffice(r, t))
	if next.RulesDir != "" {
		d.Log.Info("rules reloaded", "dir", next.RulesDir)
	}
	if next != old {
		d.swapConfig(next)
	}
	d.startMailboxes(next, restart)
	if d.scheduler != nil {
		d.scheduler.Reschedule()
		if n, err := d.scheduler.Recompute(context.Background()); err != nil {
			d.Log.Error("recomputing open cases' dates", "err", err)
		} else if n > 0 {
			d.Log.Info("calendar changed: due dates recomputed", "cases", n)
		}
	}
	return nil
}

// logErrors logs each problem of err on its own line.
func (d *Daemon) logErrors(msg string, err error) {
	var errs config.Errors
	if !errors.As(err, &errs) {
		d.Log.Error(msg, "err", err)
		return
	}
	for _, e := range errs {
		d.Log.Error(msg, "err", e)
	}
}

// keepRestartOnly gives next the values in force of the settings only a
// restart can change, logging each that differs.
func (d *Daemon) keepRestartOnly(old, next *config.Config) {
	keep := func(setting string, differs bool, inForce, inFile any) {
		if differs {
			d.Log.Warn("a restart is needed to change this setting: the value in force is kept",
				"setting", setting, "in_force", inForce, "in_file", inFile)
		}
	}
	keep("state_dir", next.StateDir != old.StateDir, old.StateDir, next.StateDir)
	keep("office.code", next.Office.Code != old.Office.Code, old.Office.Code, next.Office.Code)
	keep("protocol.format", next.Protocol.Format != old.Protocol.Format, old.Protocol.Format, next.Protocol.Format)
	keep("log", next.Log != old.Log, fmt.Sprintf("%+v", old.Log), fmt.Sprintf("%+v", next.Log))
	keep("shadow", next.Shadow != old.Shadow, old.Shadow, next.Shadow)
	keep("http", next.HTTP != old.HTTP, fmt.Sprintf("%+v", old.HTTP), fmt.Sprintf("%+v", next.HTTP))
	keep("register", !reflect.DeepEqual(next.Register, old.Register), fmt.Sprintf("%+v", old.Register), fmt.Sprintf("%+v", next.Register))
	next.StateDir, next.Office.Code, next.Protocol, next.Log, next.Shadow = old.StateDir, old.Office.Code, old.Protocol, old.Log, old.Shadow
	next.HTTP, next.Register = old.HTTP, old.Register
}

// swapConfig puts next in force: the answers' policy, the deadlines'
// accounts and the outbox's.
func (d *Daemon) swapConfig(next *config.Config) {
	d.config.Store(next)
	d.policy.Store(d.newPolicy(next))
	if d.scheduler != nil {
		d.scheduler.SetConfig(next)
	}
	if d.sender != nil {
		d.sender.Configure(accounts(next, d.sender.AccountsInUse()), d.outboxBackoff(next))
	}
	d.Log.Info("configuration reloaded", "config", next.File, "mailboxes", len(next.Mailboxes))
}

// running reports whether Run's loops are running. Call it with d.mu held.
func (d *Daemon) running() bool { return d.ctx != nil && d.ctx.Err() == nil }

// stopChanged stops the loops of the mailboxes next removes or changes
// and waits until they have finished their batch in hand; it returns the
// names of the changed ones. Call it with d.mu held.
func (d *Daemon) stopChanged(next *config.Config) map[string]bool {
	if !d.running() {
		return nil
	}
	in := map[string]config.Mailbox{}
	for _, m := range next.Mailboxes {
		in[m.Name] = m
	}
	changed := map[string]bool{}
	var stopped []*mailboxLoops
	for name, l := range d.boxes {
		m, ok := in[name]
		switch {
		case !ok:
			d.Log.Info("mailbox removed: its loops stop after the batch in hand", "mailbox", name)
		case !sameMailbox(l.cfg, m) || l.sent != watchesSent(next, m):
			d.Log.Info("mailbox changed: its loops start again after the batch in hand", "mailbox", name)
			changed[name] = true
		default:
			continue
		}
		l.stop()
		stopped = append(stopped, l)
		delete(d.boxes, name)
	}
	for _, l := range stopped {
		l.wait()
		if !changed[l.cfg.Name] {
			d.board.Remove(l.cfg.Name) // /healthz no longer waits for it
		}
	}
	return changed
}

// startMailboxes starts the loops of the mailboxes of next that have none
// (added, or changed and stopped). Call it with d.mu held.
func (d *Daemon) startMailboxes(next *config.Config, changed map[string]bool) {
	if !d.running() {
		return
	}
	for _, m := range next.Mailboxes {
		if _, ok := d.boxes[m.Name]; ok {
			continue
		}
		if !changed[m.Name] {
			d.Log.Info("mailbox added: starting its loops", "mailbox", m.Name)
		}
		d.boxes[m.Name] = d.startMailbox(next, m)
	}
}
