package daemon

import (
	"fmt"
	"os"
	"path/filepath"

	"gatewayd/internal/answer"
	"gatewayd/internal/config"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

// office is one immutable set of an office's rules, answer templates and
// the classifier over them; a reload swaps in a new one.
type office struct {
	answer.Office // Rules nil: no rules_dir
	classifier    triage.Classifier
}

// LoadOffice loads rules_dir: the rules (every configured mailbox must be
// among their caselle) and the templates of its templates/ directory.
func LoadOffice(cfg *config.Config) (*rules.Rules, *answer.Templates, error) {
	r, err := LoadRules(cfg)
	if err != nil || r == nil {
		return nil, nil, err
	}
	t, err := answer.Load(os.DirFS(cfg.RulesDir), "templates", filepath.Join(cfg.RulesDir, "templates"), r.LadderTemplates()...)
	if err != nil {
		return nil, nil, err
	}
	var errs config.Errors
	for _, m := range cfg.Mailboxes {
		if m.SMTP == nil && !cfg.Shadow {
			errs = append(errs, config.Error{File: cfg.File, Line: m.Line,
				Msg: fmt.Sprintf("mailbox %s has no smtp account: its answers could not be sent (add smtp, or set shadow: true)", m.Name)})
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return r, t, nil
}

func newOffice(r *rules.Rules, t *answer.Templates) *office {
	return &office{Office: answer.Office{Rules: r, Templates: t}, classifier: ClassifierFor(r)}
}
