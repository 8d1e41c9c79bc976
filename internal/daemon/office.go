package daemon

import (
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"

	"gatewayd/internal/answer"
	"gatewayd/internal/config"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// office is one immutable set of an office's rules, answer templates and
// the classifier over them; a reload swaps in a new one.
type office struct {
	rules      *rules.Rules // nil: no rules_dir
	templates  *answer.Templates
	classifier triage.Classifier
}

// LoadOffice loads rules_dir: the rules (every configured mailbox must be
// among their caselle) and the templates of its templates/ directory.
func LoadOffice(cfg *config.Config) (*rules.Rules, *answer.Templates, error) {
	r, err := LoadRules(cfg)
	if err != nil || r == nil {
		return nil, nil, err
	}
	t, err := answer.Load(os.DirFS(cfg.RulesDir), "templates", filepath.Join(cfg.RulesDir, "templates"))
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
	return &office{rules: r, templates: t, classifier: classifierFor(r)}
}

// exampleSubjects are correct subjects shown in refusals, by mailbox role.
var exampleSubjects = map[string]string{
	rules.RolePEC:           "01234560371 - Aziende con dipendenti - istanza di intervento sostitutivo",
	rules.RoleInstitutional: "RSSMRA85T10A562S - Artigiani - richiesta di sgravio dell'avviso di addebito n. 123/2025",
	rules.RoleDURC:          "01234560371 - DURC - riscontro al preavviso di accertamento n. 123/2025",
	rules.RoleNormative:     "Quesito normativo - contribuzione dei soci lavoratori di cooperative",
}

// answerFunc writes the answers of one mailbox, inside the ingest
// transaction. It never answers the gateway's own addresses (loop
// protection); in shadow mode answers are kept as held.
func (d *Daemon) answerFunc(m config.Mailbox) store.AnswerFunc {
	return func(r store.Result, it store.Item, record int64) (*store.Answer, error) {
		o := d.office.Load()
		if o.templates == nil || !answer.Needed(r.Outcome) {
			return nil, nil
		}
		dec := it.Decision
		to := strings.TrimSpace(dec.Sender)
		if to == "" {
			return nil, nil
		}
		rm, ok := o.rules.Mailbox(m.Address)
		if !ok { // LoadOffice refuses such rules; never answer blind
			return nil, nil
		}
		from := m.Address
		if m.SMTP != nil {
			from = m.SMTP.From
		}
		inReplyTo, refs := it.Facts.MessageID, it.Facts.Header.Get("References")
		if dec.OriginalID != "" { // a PEC: answer the message the sender wrote, not the provider's envelope
			inReplyTo, refs = dec.OriginalID, ""
		}
		a := &store.Answer{Mailbox: m.Name, From: from, To: to, State: store.OutQueued, DailyLimit: o.rules.AnswerLimit,
			Authenticated: triage.Authenticated(dec.SenderAuth)}
		if addr, err := netmail.ParseAddress(to); err != nil || addr.Address != to {
			// Recorded, not answered: a failure here must not roll back the
			// batch (the mailbox would retry it forever).
			a.State, a.Reason, a.Kind, a.MessageID = store.OutSuppressed, "no valid sender address to answer", "none",
				fmt.Sprintf("gatewayd.none.%d@invalid", record)
			return a, nil
		}
		msg, err := answer.Compose(o.templates, answer.Input{
			OfficeName: o.rules.Office.Name, OfficeCode: o.rules.Office.Code, From: from, Mailbox: m.Address, To: to,
			OrigSubject: dec.Subject, OrigMessageID: inReplyTo,
			OrigReferences: mailparse.DecodeHeader(refs), Record: record, Decision: dec,
			Protocol: r.Protocol, ReceivedAt: it.InternalDate, Now: d.now(), ExampleSubject: exampleSubjects[rm.Role],
		})
		if err != nil {
			d.Log.Error("composing an answer failed: recorded as suppressed", "mailbox", m.Name, "record", record, "err", err)
			a.State, a.Reason, a.Kind, a.MessageID = store.OutSuppressed, "composing the answer failed: "+err.Error(), "none",
				fmt.Sprintf("gatewayd.none.%d@invalid", record)
			return a, nil
		}
		a.Kind, a.MessageID, a.Raw = msg.Kind, msg.MessageID, msg.Raw
		switch {
		case d.ownAddress(o, to):
			a.State, a.Reason = store.OutSuppressed, "the recipient is one of the gateway's own addresses"
		case dec.SenderAuth == triage.AuthFail:
			// Backscatter: the answer would go to someone who did not write.
			a.State, a.Reason = store.OutSuppressed, ReasonUnauthenticatedSender+": "+dec.AuthDetail
		case d.Config.Shadow:
			a.State, a.Reason = store.OutHeld, "shadow mode"
		}
		return a, nil
	}
}

// ReasonUnauthenticatedSender is why an answer is suppressed when the
// office's MTA says the From domain failed DMARC.
const ReasonUnauthenticatedSender = "unauthenticated-sender"

// ownAddress reports one of the office's or the gateway's addresses.
func (d *Daemon) ownAddress(o *office, addr string) bool {
	if _, ok := o.rules.Mailbox(addr); ok {
		return true
	}
	for _, m := range d.Config.Mailboxes {
		if strings.EqualFold(m.Address, addr) || m.SMTP != nil && strings.EqualFold(m.SMTP.From, addr) {
			return true
		}
	}
	return false
}
