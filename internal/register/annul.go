package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatewayd/internal/answer"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/store"
)

// OutcomeAnnulled closes the case of an annulled registration.
const OutcomeAnnulled = "annulled"

// Annulment is an operator's annulment: what, who, why, by which act.
type Annulment struct {
	Protocol      string
	By            string
	Reason        string
	Provvedimento string
}

// Annul annuls a registration in the caller's transaction (DPR 445/2000
// art. 54): the annulment is recorded, the case, if open, is closed, and
// the sender is told with the office's annullamento template (held in
// shadow mode). Without templates (no rules_dir) nobody is told.
func Annul(ctx context.Context, tx *store.Tx, o *answer.Office, cfg *config.Config, a Annulment) (store.Registration, error) {
	r, err := tx.Annul(ctx, a.Protocol, a.By, a.Reason, a.Provvedimento)
	if err != nil {
		return r, err
	}
	why := map[string]any{"by": a.By, "command": "gatewayd protocol annul", "reason": a.Reason}
	c, err := tx.CaseByProtocol(ctx, r.Label)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return r, err
	case c.Open():
		if err := tx.Close(ctx, c, store.CaseClosed, OutcomeAnnulled, tx.Now(), why); err != nil {
			return r, err
		}
	}
	if o == nil || o.Templates == nil {
		return r, nil
	}
	mail, err := annulmentMail(o, cfg, r, tx.Now())
	if err != nil {
		return r, err
	}
	state, reason, err := tx.FirstAnswer(ctx, r.Message)
	if err != nil {
		return r, err
	}
	if state == store.OutSuppressed { // the answer policy did not answer this sender: neither does the annulment
		mail.State, mail.Reason = store.OutSuppressed, "the acknowledgment was suppressed: "+reason
	}
	return r, tx.Enqueue(ctx, mail)
}

// annulmentMail composes the mail that tells the sender.
func annulmentMail(o *answer.Office, cfg *config.Config, r store.Registration, now time.Time) (store.Mail, error) {
	mailbox, from := cfg.Sender(r.Mailbox)
	at := r.At.In(clock.Rome)
	box, _ := cfg.MailboxNamed(r.Mailbox)
	data := answer.Data{Mailbox: box.Address, Protocol: r.Label, Sender: r.CurrentSender(), Subject: r.CurrentSubject(),
		Received: at.Format("02/01/2006") + " alle " + at.Format("15:04"), MessageID: r.SenderRef,
		Reason: r.Annulment.Reason, Act: r.Annulment.Provvedimento}
	msg, err := answer.ComposeNotice(o.Templates, answer.Notice{Template: answer.TplAnnulment, Level: answer.TplAnnulment,
		OfficeName: o.Rules.Office.Name, OfficeCode: o.Rules.Office.Code, From: from, To: []string{r.CurrentSender()}, Data: data, Now: now})
	if err != nil {
		return store.Mail{}, fmt.Errorf("composing the annulment mail to the sender: %w", err)
	}
	m := store.Mail{Message: r.Message, Mailbox: mailbox, Kind: answer.TplAnnulment, MessageID: msg.MessageID, From: from,
		To: r.CurrentSender(), Raw: msg.Raw, State: store.OutQueued}
	if cfg.Shadow || r.Register == store.RegisterShadow {
		m.State, m.Reason = store.OutHeld, "shadow mode"
	}
	return m, nil
}
