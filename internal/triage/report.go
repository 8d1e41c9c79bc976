package triage

import (
	"encoding/json"
	"io"
)

// Report is the JSON contract of gatewayd triage: a decision as operators
// and other tools read it.
type Report struct {
	Decision      string   `json:"decision"` // accept, reject, ignore
	Reasons       []string `json:"reasons"`
	CodiceFiscale string   `json:"codice_fiscale"`
	InvalidValue  string   `json:"invalid_value,omitempty"`
	Gestione      string   `json:"gestione"`
	Summary       string   `json:"summary"`
	PEC           *PECInfo `json:"pec"`
	Due           string   `json:"due,omitempty"`
	RightMailbox  string   `json:"right_mailbox,omitempty"`
	Service       string   `json:"service,omitempty"`
	// Sender is who the answer goes to; SenderAuth how it was authenticated.
	Sender     string `json:"sender,omitempty"`
	SenderAuth string `json:"sender_auth,omitempty"`
}

var decisions = map[Outcome]string{Accepted: "accept", Refused: "reject", Ignored: "ignore"}

// ReportOf turns a decision into its report.
func ReportOf(d Decision) Report {
	r := Report{Decision: decisions[d.Outcome], Reasons: d.Reasons, CodiceFiscale: d.CodiceFiscale,
		InvalidValue: d.InvalidValue, Gestione: d.Gestione, Summary: d.Summary, PEC: d.PEC, Due: d.Due,
		RightMailbox: d.RightMailbox, Service: d.Service, Sender: d.Sender, SenderAuth: d.SenderAuth}
	if r.PEC == nil {
		r.PEC = &PECInfo{Kind: "none", Signature: "missing"}
	}
	return r
}

// Write writes the report as indented JSON, one object.
func (r Report) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
