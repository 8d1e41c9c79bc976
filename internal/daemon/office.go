package daemon

import (
	"errors"
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
// Every problem is reported at once: the templates' too when the rules
// have some.
func LoadOffice(cfg *config.Config) (*rules.Rules, *answer.Templates, error) {
	if cfg.RulesDir == "" {
		return nil, nil, nil
	}
	var errs config.Errors
	r, err := LoadRules(cfg)
	errs = appendErrors(errs, err)
	t, err := loadTemplates(cfg.RulesDir, r)
	errs = appendErrors(errs, err)
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

// LoadRulesDir loads a rules directory and its templates on their own
// (gatewayd check --rules), every problem at once.
func LoadRulesDir(dir string) (*rules.Rules, *answer.Templates, error) {
	r, err := rules.Load(dir)
	errs := appendErrors(nil, err)
	t, err := loadTemplates(dir, r)
	errs = appendErrors(errs, err)
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return r, t, nil
}

// loadTemplates loads the templates of a rules directory, with those its
// ladders name (none when r is nil: rules that did not load).
func loadTemplates(dir string, r *rules.Rules) (*answer.Templates, error) {
	return answer.Load(os.DirFS(dir), "templates", filepath.Join(dir, "templates"), r.LadderTemplates()...)
}

// appendErrors adds the problems of err to errs.
func appendErrors(errs config.Errors, err error) config.Errors {
	var es config.Errors
	switch {
	case err == nil:
		return errs
	case errors.As(err, &es):
		return append(errs, es...)
	}
	return append(errs, config.Error{Msg: err.Error()})
}

func newOffice(r *rules.Rules, t *answer.Templates) *office {
	return &office{Office: answer.Office{Rules: r, Templates: t}, classifier: ClassifierFor(r)}
}
