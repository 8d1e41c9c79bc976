package daemon

import (
	"context"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"

	"gatewayd/internal/config"
	"gatewayd/internal/pec"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

// LoadRules loads the rules directory of cfg and checks that every
// configured mailbox is one of its caselle. Without rules_dir it returns
// nil, nil: every well-formed message is accepted.
func LoadRules(cfg *config.Config) (*rules.Rules, error) {
	if cfg.RulesDir == "" {
		return nil, nil
	}
	r, err := rules.Load(cfg.RulesDir)
	if err != nil {
		return nil, err
	}
	var errs config.Errors
	if !strings.EqualFold(r.Office.Code, cfg.Office.Code) {
		// One identity: the code in the protocol numbers and the rules'
		// office must be the same office.
		errs = append(errs, config.Error{File: cfg.File, Line: cfg.Office.Line,
			Msg: fmt.Sprintf("office.code %s differs from the code of the rules' office, %s (%s): write the same code in both",
				cfg.Office.Code, r.Office.Code, filepath.Join(cfg.RulesDir, rules.FileUfficio))})
	}
	for _, m := range cfg.Mailboxes {
		if _, ok := r.Mailbox(m.Address); !ok {
			errs = append(errs, config.Error{File: cfg.File, Line: m.Line,
				Msg: fmt.Sprintf("mailbox %s: address %s is not among the caselle of %s", m.Name, m.Address, cfg.RulesDir)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// ClassifierFor returns the classifier of a rules set.
func ClassifierFor(r *rules.Rules) triage.Classifier {
	if r == nil {
		return triage.AcceptAll{}
	}
	return &triage.Rules{Rules: r, PEC: PECChecker(r)}
}

// PECChecker returns the PEC verifier for a rules set: the system's roots
// plus the rules' anchors (only those with sostituisci_ancore), plus extra.
func PECChecker(r *rules.Rules, extra ...*x509.Certificate) triage.PECChecker {
	anchors := append(append([]*x509.Certificate{}, r.PECTrust...), extra...)
	return triage.PEC{Verifier: pec.NewVerifier(anchors, r.PECTrustReplace)}
}

// Reload loads the rules again and swaps them in; on error it logs every
// problem and keeps the rules in force.
func (d *Daemon) Reload() error {
	r, t, err := LoadOffice(d.Config)
	if err != nil {
		d.Log.Error("rules reload failed: keeping the rules in force", "err", err)
		return err
	}
	d.office.Store(newOffice(r, t))
	d.Log.Info("rules reloaded", "dir", d.Config.RulesDir)
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
