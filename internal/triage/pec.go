package triage

import (
	"io"
	"strings"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/pec"
)

// PEC is the PECChecker of a pec.Verifier.
type PEC struct {
	Verifier *pec.Verifier
}

// Check verifies the envelope; a certified transport envelope yields the
// original message's subject and daticert's sender.
func (p PEC) Check(r io.ReadSeeker) PECResult {
	e := p.Verifier.Check(r)
	res := PECResult{
		Info:     PECInfo{Envelope: e.Transport != "" || e.Receipt != "", Kind: e.Kind(), Signature: e.Signature},
		Tampered: e.Outcome == pec.Tampered,
		Ref:      e.RefMessageID,
	}
	if e.Outcome != pec.Certified || e.Transport != "posta-certificata" {
		return res
	}
	res.Certified = true
	res.Subject = mailparse.DecodeHeader(e.Original.Get("Subject"))
	res.OrigID = strings.Trim(strings.TrimSpace(e.Original.Get("Message-Id")), "<>")
	if e.Daticert != nil {
		res.Sender = e.Daticert.Mittente
		if res.Subject == "" {
			res.Subject = e.Daticert.Oggetto
		}
	}
	res.Info.Sender = res.Sender
	return res
}
