package triage

import (
	"strings"

	"github.com/emersion/go-message/textproto"

	"gatewayd/internal/pec"
	"gatewayd/internal/rules"
	"gatewayd/internal/subject"
)

// Rules is the agreements' classifier over an office's rules.
type Rules struct {
	Rules *rules.Rules
	PEC   PECChecker
}

// view is the message the sender wrote, as far as it can be believed: for
// a certified PEC the signed original (postacert.eml, daticert), else the
// message received.
type view struct {
	header         textproto.Header
	deliveryReport bool
	attachments    int
}

// Classify decides on one well-formed message (REQUIREMENTS C1–C8).
func (c *Rules) Classify(in Input) Decision {
	d := Decision{Reasons: []string{}}
	m, known := c.Rules.Mailbox(in.Address)
	var res *PECResult
	if needsPECCheck(in.Facts.Header) || known && m.Role == rules.RolePEC {
		r := c.checkPEC(in)
		res, d.PEC = &r, &r.Info
	}
	v := c.judge(&d, in, res)
	if res != nil && res.Certified && pec.IsReceiptKind(res.Kind) {
		// links a receipt of our own answer to it, when it is about it
		d.PECRef, d.PECFinalFailure, d.PECReceiptFrom, d.PECReceiptTo = res.Ref, res.FinalFailure, res.ReceiptFrom, res.Recipients
		return d.with(Ignored, ReasonPECReceipt)
	}
	if res != nil && contains(lower(res.Signer), strings.ToLower(d.Sender)) {
		d.Sender = "" // never answer the provider itself (a receipt or envelope that is not certified as such)
	}
	if isAutomatic(v.header, v.deliveryReport) {
		return d.with(Ignored, ReasonAutomatic)
	}
	if !known {
		return d.with(Ignored, ReasonUnknownMailbox)
	}
	switch m.Role {
	case rules.RolePEC:
		c.pecIntake(&d, *res, m)
	case rules.RoleInstitutional:
		c.institutional(&d, m)
	case rules.RoleDURC:
		c.durc(&d, m, v.attachments)
	case rules.RoleNormative:
		if !c.fromOrdine(d, v, res) {
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

// needsPECCheck: PEC headers, or an S/MIME signature that may hold a PEC
// whose outer headers were taken away.
func needsPECCheck(h textproto.Header) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	return h.Has("X-Trasporto") || h.Has("X-Ricevuta") || strings.HasPrefix(strings.TrimSpace(ct), "multipart/signed")
}

// judge fills the decision's subject, sender and its authentication from
// the message the sender wrote, and returns that message's view.
func (c *Rules) judge(d *Decision, in Input, res *PECResult) view {
	defer func() { d.Subject = clipSubject(d.Subject) }()
	if res != nil && res.Certified && (res.Kind == pec.KindTransport || res.Kind == pec.KindAnomaly) {
		d.Subject, d.OriginalID, d.OriginalDate = res.Subject, res.OrigID, res.OrigDate
		switch {
		case res.Kind == pec.KindAnomaly: // an ordinary mail the provider wrapped: nobody vouches for its sender
			d.SenderAuth, d.AuthDetail = AuthNone, "anomaly envelope: the original mail is not certified"
			d.Sender = replyAddress(res.Inner, false)
		case addressedTo(res.Recipients, in.Address):
			d.Sender, d.SenderAuth, d.AuthDetail = res.Sender, AuthPEC, "certified PEC to this mailbox: daticert mittente"
		default: // a genuine PEC for someone else, forwarded or replayed here: it vouches for nothing here
			d.Sender, d.SenderAuth, d.AuthDetail = res.Sender, AuthNone, "certified PEC for another recipient"
		}
		return view{header: res.Inner, attachments: res.InnerAttachments}
	}
	h := in.Facts.Header
	d.Subject = in.Facts.Subject
	d.SenderAuth, d.AuthDetail = authResult(h, c.Rules.AuthServIDs)
	d.Sender = replyAddress(h, d.SenderAuth == AuthPass)
	d.ReplyElsewhere = domainOf(d.Sender) != domainOf(addressOf(h.Get("From")))
	return view{header: h, deliveryReport: in.Facts.DeliveryReport, attachments: in.Facts.Attachments}
}

// MaxSubject bounds the subject the parsers read, in characters: no
// OGGETTO is longer, and a hostile one of megabytes costs nothing.
const MaxSubject = 1000

func clipSubject(s string) string {
	if len(s) <= MaxSubject {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxSubject {
			return s[:i]
		}
		n++
	}
	return s
}

// fromOrdine: a certified PEC from one of the Ordine's addresses, or a
// mail from one of them that the office's MTA authenticated (C6).
func (c *Rules) fromOrdine(d Decision, v view, res *PECResult) bool {
	switch d.SenderAuth {
	case AuthPEC:
		return c.Rules.Ordine[strings.ToLower(res.Sender)]
	case AuthPass:
		return c.Rules.Ordine[strings.ToLower(addressOf(v.header.Get("From")))]
	}
	return false
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

// pecIntake: only a certified transport envelope addressed to this
// mailbox is handled (C1): an anomaly envelope (ordinary mail wrapped by
// the provider) and anything unsigned are refused and the sender told so;
// telematic-only requests are pointed to the online service (C2); fields
// are read, not required.
func (c *Rules) pecIntake(d *Decision, res PECResult, m *rules.Mailbox) {
	c.fields(d)
	if !res.Certified || res.Kind != pec.KindTransport {
		d.Reasons = append(d.Reasons, ReasonNotCertified)
		if res.Tampered {
			d.Reasons = append(d.Reasons, ReasonPECInvalidSignature)
		}
		return
	}
	here := addressedTo(res.Recipients, m.Address)
	d.PEC.AddressedHere = &here
	if !here {
		d.Reasons = append(d.Reasons, ReasonPECNotAddressedHere)
		return
	}
	for _, t := range c.Rules.Telematic {
		if _, ok := subject.Mentions(d.Subject, t.Keywords); ok {
			d.Reasons = append(d.Reasons, ReasonTelematicOnly)
			d.Service = t.Service
			return
		}
	}
}

func lower(list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = strings.ToLower(strings.TrimSpace(v))
	}
	return out
}

func addressedTo(recipients []string, addr string) bool {
	for _, r := range recipients {
		if strings.EqualFold(strings.TrimSpace(r), addr) {
			return true
		}
	}
	return false
}

func (c *Rules) checkPEC(in Input) PECResult {
	none := PECResult{Info: PECInfo{Envelope: in.Facts.Header.Has("X-Trasporto") || in.Facts.Header.Has("X-Ricevuta"),
		Kind: pec.KindNone, Signature: pec.SigMissing}}
	if c.PEC == nil || in.Open == nil {
		return none
	}
	r, err := in.Open()
	if err != nil {
		none.Info.Detail = "cannot reopen the message: " + err.Error()
		return none
	}
	defer r.Close()
	return c.PEC.Check(r)
}

// institutional: a DURC topic belongs to the DURC box; otherwise codice
// fiscale, gestione and summary are required (C4), with the taxpayer's
// name for the gestioni the rules name, and companies with employees use
// the Cassetto unless the subject opts out (C5).
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
	if c.Rules.NameRequired[r.Gestione] && d.CodiceFiscale != "" && !NameMatches(d.Subject, d.CodiceFiscale) {
		d.Reasons = append(d.Reasons, ReasonMissingName)
	}
	if len(d.Reasons) == 0 && r.Gestione == "aziende-con-dipendenti" && c.Rules.Cassetto.Refuse {
		marker := c.Rules.Cassetto.OptOutMarker
		if _, optOut := subject.Mentions(d.Subject, []string{marker}); marker == "" || !optOut {
			d.Reasons = append(d.Reasons, ReasonUseCassetto)
			d.Service = c.Rules.Cassetto.Service
		}
	}
}

// durc: the codice fiscale is required, the topic must be DURC (C3), and
// a riscontro to a preavviso carries its evidence attached (Milan 3).
func (c *Rules) durc(d *Decision, m *rules.Mailbox, attachments int) {
	c.fields(d)
	if _, ok := subject.Mentions(d.Subject, c.Rules.DURC.Keywords); !ok {
		d.Reasons = append(d.Reasons, ReasonWrongMailbox)
		d.RightMailbox = c.institutionalBox(m.Address)
		return
	}
	requireCF(d)
	if _, riscontro := subject.Mentions(d.Subject, c.Rules.DURC.Riscontro); riscontro && attachments == 0 {
		d.Reasons = append(d.Reasons, ReasonMissingEvidence)
	}
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

// replyAddress is who should be answered: From, or Reply-To when it is in
// From's domain or the sender was authenticated (a Reply-To elsewhere on
// an unauthenticated mail would turn the answer into backscatter).
func replyAddress(h textproto.Header, authenticated bool) string {
	from := addressOf(h.Get("From"))
	if v := h.Get("Reply-To"); v != "" {
		if a := addressOf(v); strings.Contains(a, "@") && (authenticated || domainOf(a) == domainOf(from)) {
			return a
		}
	}
	return from
}
