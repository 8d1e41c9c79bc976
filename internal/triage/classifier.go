package triage

import (
	"io"
	"strings"

	"github.com/emersion/go-message/textproto"

	"gatewayd/internal/rules"
	"gatewayd/internal/subject"
)

// PECResult is what a PEC check learns of a message.
type PECResult struct {
	Info      PECInfo
	Certified bool   // a genuine transport envelope, validly signed by a trusted provider
	Tampered  bool   // signed, but the content does not match the signature
	Subject   string // the original message's subject (certified only)
	Sender    string // daticert's mittente (certified only)
	Ref       string // X-Riferimento-Message-ID
	OrigID    string // the original message's Message-ID (certified only)
}

// PECChecker verifies PEC envelopes (REQUIREMENTS C1, C8).
type PECChecker interface {
	Check(raw io.ReadSeeker) PECResult
}

// Rules is the agreements' classifier over an office's rules.
type Rules struct {
	Rules *rules.Rules
	PEC   PECChecker
}

// Classify decides on one well-formed message (REQUIREMENTS C1–C8).
func (c *Rules) Classify(in Input) Decision {
	h := in.Facts.Header
	d := Decision{Reasons: []string{}, Subject: in.Facts.Subject, Sender: replyAddress(h)}
	var pecRes *PECResult
	if h.Has("X-Trasporto") || h.Has("X-Ricevuta") {
		res := c.checkPEC(in)
		pecRes, d.PEC = &res, &res.Info
	}
	if isPECReceipt(h) {
		if pecRes != nil && pecRes.Info.Signature == "valid" {
			d.PECRef = pecRes.Ref // links a receipt of our own answer to it
		}
		return d.with(Ignored, ReasonPECReceipt)
	}
	if isAutomatic(h) {
		return d.with(Ignored, ReasonAutomatic)
	}
	m, ok := c.Rules.Mailbox(in.Address)
	if !ok {
		return d.with(Ignored, ReasonUnknownMailbox)
	}
	switch m.Role {
	case rules.RolePEC:
		if pecRes == nil {
			res := c.checkPEC(in)
			pecRes = &res
		}
		c.pecIntake(&d, *pecRes)
	case rules.RoleInstitutional:
		c.institutional(&d, m)
	case rules.RoleDURC:
		c.durc(&d, m)
	case rules.RoleNormative:
		if !c.Rules.Ordine[strings.ToLower(addressOf(h.Get("From")))] {
			d.Reasons = append(d.Reasons, ReasonNotFromOrdine)
		}
		c.fields(&d)
	}
	if len(d.Reasons) > 0 {
		d.Outcome = Refused
		return d
	}
	d.Outcome = Accepted
	d.Due = c.Rules.Due(m, in.ReceivedAt).Format("2006-01-02")
	return d
}

func (d Decision) with(o Outcome, reason string) Decision {
	d.Outcome, d.Reasons = o, append(d.Reasons, reason)
	return d
}

// fields reads codice fiscale, gestione and summary from the subject.
func (c *Rules) fields(d *Decision) subject.Result {
	r := subject.Parse(d.Subject, c.Rules.Vocabulary)
	d.CodiceFiscale, d.InvalidValue, d.Gestione, d.Summary = r.CodiceFiscale, r.Invalid, r.Gestione, r.Summary
	return r
}

// requireCF adds the reason when no valid codice fiscale was found.
func requireCF(d *Decision) {
	switch {
	case d.CodiceFiscale != "":
	case d.InvalidValue != "":
		d.Reasons = append(d.Reasons, ReasonInvalidCF)
	default:
		d.Reasons = append(d.Reasons, ReasonMissingCF)
	}
}

// pecIntake: only a certified PEC is handled (C1); telematic-only
// requests are pointed to the online service (C2); fields are read, not
// required.
func (c *Rules) pecIntake(d *Decision, res PECResult) {
	info := res.Info
	d.PEC = &info
	if !res.Certified {
		d.Reasons = append(d.Reasons, ReasonNotCertified)
		if res.Tampered {
			d.Reasons = append(d.Reasons, ReasonPECInvalidSignature)
		}
		c.fields(d)
		return
	}
	d.Subject, d.Sender, d.OriginalID = res.Subject, res.Sender, res.OrigID
	c.fields(d)
	for _, t := range c.Rules.Telematic {
		if _, ok := subject.Mentions(d.Subject, t.Keywords); ok {
			d.Reasons = append(d.Reasons, ReasonTelematicOnly)
			d.Service = t.Service
			return
		}
	}
}

func (c *Rules) checkPEC(in Input) PECResult {
	h := in.Facts.Header
	kind := strings.ToLower(strings.TrimSpace(h.Get("X-Trasporto")))
	if kind == "" {
		kind = "none"
	}
	none := PECResult{Info: PECInfo{Envelope: kind != "none", Kind: kind, Signature: "missing"}}
	if c.PEC == nil || in.Open == nil {
		return none
	}
	r, err := in.Open()
	if err != nil {
		return none
	}
	defer r.Close()
	return c.PEC.Check(r)
}

// institutional: a DURC topic belongs to the DURC box; otherwise codice
// fiscale, gestione and summary are required (C4), and companies with
// employees use the Cassetto unless the subject opts out (C5).
func (c *Rules) institutional(d *Decision, m *rules.Mailbox) {
	r := c.fields(d)
	if _, ok := subject.Mentions(d.Subject, c.Rules.DURC.Keywords); ok {
		d.Reasons = append(d.Reasons, ReasonWrongMailbox)
		d.RightMailbox = m.DURCBox
		if d.RightMailbox == "" {
			d.RightMailbox = c.Rules.DURCBox()
		}
		return
	}
	requireCF(d)
	if r.Gestione == "" {
		d.Reasons = append(d.Reasons, ReasonMissingGestione)
	}
	if subject.SummaryLength(r.Summary) < c.Rules.MinSummary {
		d.Reasons = append(d.Reasons, ReasonMissingSummary)
	}
	if len(d.Reasons) == 0 && r.Gestione == "aziende-con-dipendenti" && c.Rules.Cassetto.Refuse {
		marker := c.Rules.Cassetto.OptOutMarker
		if _, optOut := subject.Mentions(d.Subject, []string{marker}); marker == "" || !optOut {
			d.Reasons = append(d.Reasons, ReasonUseCassetto)
			d.Service = c.Rules.Cassetto.Service
		}
	}
}

// durc: the codice fiscale is required, and the topic must be DURC (C3).
func (c *Rules) durc(d *Decision, m *rules.Mailbox) {
	c.fields(d)
	if _, ok := subject.Mentions(d.Subject, c.Rules.DURC.Keywords); !ok {
		d.Reasons = append(d.Reasons, ReasonWrongMailbox)
		d.RightMailbox = c.institutionalBox(m.Address)
		return
	}
	requireCF(d)
}

// institutionalBox returns the first institutional address (in the order
// of caselle.yaml) whose DURC box is durcBox (the same agency), else the
// first institutional one.
func (c *Rules) institutionalBox(durcBox string) string {
	first := ""
	for _, m := range c.Rules.List {
		if m.Role != rules.RoleInstitutional {
			continue
		}
		if strings.EqualFold(m.DURCBox, durcBox) {
			return m.Address
		}
		if first == "" {
			first = m.Address
		}
	}
	return first
}

// replyAddress is who should be answered: Reply-To, else From.
func replyAddress(h textproto.Header) string {
	if v := h.Get("Reply-To"); v != "" {
		if a := addressOf(v); strings.Contains(a, "@") {
			return a
		}
	}
	return addressOf(h.Get("From"))
}
