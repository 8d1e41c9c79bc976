package daemon

import (
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
