package answer

import (
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// ReasonUnauthenticatedSender is why an answer is suppressed when the
// office's MTA says the From domain failed DMARC.
const ReasonUnauthenticatedSender = "unauthenticated-sender"

// Office is one immutable set of an office's rules and templates; a
// reload swaps in a new one.
type Office struct {
	Rules     *rules.Rules
	Templates *Templates
}

// Policy decides who gets which mail and how (REQUIREMENTS P2): the
// answers to incoming mail, composed from the office's templates, held in
// shadow mode, suppressed to the gateway's own addresses and to senders
// whose domain failed DMARC, capped per sender and day. It is pure: it
// speaks no SQL and no SMTP; the store enqueues what it returns.
type Policy struct {
	Office  func() *Office // the office in force (nil or no templates: no answers)
	Config  *config.Config // the mailboxes and their SMTP accounts, shadow mode
	Now     clock.Clock
	Log     *slog.Logger
	Example map[string]string // a correct subject per mailbox role (default: ExampleSubjects)
}

// ExampleSubjects are correct subjects shown in refusals, by mailbox role.
var ExampleSubjects = map[string]string{
	rules.RolePEC:           "01234560371 - Aziende con dipendenti - istanza di intervento sostitutivo",
	rules.RoleInstitutional: "RSSMRA85T10A562S - Artigiani - richiesta di sgravio dell'avviso di addebito n. 123/2025",
	rules.RoleDURC:          "01234560371 - DURC - riscontro al preavviso di accertamento n. 123/2025",
	rules.RoleNormative:     "Quesito normativo - contribuzione dei soci lavoratori di cooperative",
}

// Answers returns the mail answering one recorded message of mailbox m,
// or none (ignored, quarantined, seen again, no sender, no templates). An
// answer that cannot be sent is still returned, suppressed with its
// reason, so the decision's record says why nobody was answered.
func (p *Policy) Answers(m config.Mailbox, r store.Result, it store.Item) []store.Mail {
	o := p.Office()
	if o == nil || o.Templates == nil || r.SeenAgain || !Needed(r.Outcome) || it.Decision.RegionAnswer {
		return nil
	}
	dec := it.Decision
	to := strings.TrimSpace(dec.Sender)
	rm, ok := o.Rules.Mailbox(m.Address)
	if to == "" || !ok { // LoadOffice refuses rules without the mailbox: never answer blind
		return nil
	}
	a := store.Mail{Message: r.Message, Mailbox: m.Name, From: p.from(m), To: to, State: store.OutQueued,
		DailyLimit: o.Rules.AnswerLimit, Authenticated: triage.Authenticated(dec.SenderAuth) && !dec.ReplyElsewhere}
	if addr, err := netmail.ParseAddress(to); err != nil || addr.Address != to {
		return []store.Mail{suppressed(a, "no valid sender address to answer")}
	}
	msg, err := Compose(o.Templates, p.input(o, m, rm, r, it))
	if err != nil {
		p.Log.Error("composing an answer failed: recorded as suppressed", "mailbox", m.Name, "record", r.Message, "err", err)
		return []store.Mail{suppressed(a, "composing the answer failed: "+err.Error())}
	}
	a.Kind, a.MessageID, a.Raw = msg.Kind, msg.MessageID, msg.Raw
	switch {
	case p.own(o, to):
		a.State, a.Reason = store.OutSuppressed, "the recipient is one of the gateway's own addresses"
	case dec.SenderAuth == triage.AuthFail: // backscatter: the answer would go to someone who did not write
		a.State, a.Reason = store.OutSuppressed, ReasonUnauthenticatedSender+": "+dec.AuthDetail
	case p.Config.Shadow:
		a.State, a.Reason = store.OutHeld, "shadow mode"
	}
	return []store.Mail{a}
}

// suppressed records an answer that was never composed.
func suppressed(a store.Mail, reason string) store.Mail {
	a.State, a.Reason, a.Kind = store.OutSuppressed, reason, "none"
	a.MessageID = fmt.Sprintf("gatewayd.none.%d@invalid", a.Message)
	return a
}

func (p *Policy) from(m config.Mailbox) string {
	if m.SMTP != nil {
		return m.SMTP.From
	}
	return m.Address
}

// input gathers what Compose needs; a PEC is answered as a reply to the
// message the sender wrote, not to the provider's envelope.
func (p *Policy) input(o *Office, m config.Mailbox, rm *rules.Mailbox, r store.Result, it store.Item) Input {
	dec := it.Decision
	inReplyTo, refs := it.Facts.MessageID, it.Facts.Header.Get("References")
	if dec.OriginalID != "" {
		inReplyTo, refs = dec.OriginalID, ""
	}
	examples := p.Example
	if examples == nil {
		examples = ExampleSubjects
	}
	return Input{OfficeName: o.Rules.Office.Name, OfficeCode: o.Rules.Office.Code, From: p.from(m), Mailbox: m.Address,
		To: strings.TrimSpace(dec.Sender), OrigSubject: dec.Subject, OrigMessageID: inReplyTo,
		OrigReferences: mailparse.DecodeHeader(refs), Record: r.Message, Decision: dec, Protocol: r.Protocol,
		ReceivedAt: it.InternalDate, Now: p.Now.Now(), ExampleSubject: examples[rm.Role]}
}

// own reports one of the office's or the gateway's addresses.
func (p *Policy) own(o *Office, addr string) bool {
	if _, ok := o.Rules.Mailbox(addr); ok {
		return true
	}
	for _, m := range p.Config.Mailboxes {
		if strings.EqualFold(m.Address, addr) || m.SMTP != nil && strings.EqualFold(m.SMTP.From, addr) {
			return true
		}
	}
	return false
}
