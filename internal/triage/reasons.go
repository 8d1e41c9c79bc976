package triage

// Reason codes (REQUIREMENTS C1–C8); the answers have one template each.
const (
	ReasonNotCertified        = "not-certified"
	ReasonPECInvalidSignature = "pec-invalid-signature"
	ReasonMissingCF           = "missing-codice-fiscale"
	ReasonInvalidCF           = "invalid-codice-fiscale"
	ReasonMissingGestione     = "missing-gestione"
	ReasonMissingSummary      = "missing-summary"
	ReasonWrongMailbox        = "wrong-mailbox"
	ReasonUseCassetto         = "use-cassetto"
	ReasonTelematicOnly       = "telematic-only"
	ReasonNotFromOrdine       = "not-from-ordine"
	ReasonAutomatic           = "automatic"
	ReasonPECReceipt          = "pec-receipt"
	ReasonUnknownMailbox      = "unknown-mailbox"
	// ReasonPECNotAddressedHere: a genuine PEC for someone else (a forward,
	// a redirect, a move by staff): not certified to this office.
	ReasonPECNotAddressedHere = "pec-not-addressed-here"
	// ReasonMissingName: the gestione needs the taxpayer's name (Ferrara 2.3).
	ReasonMissingName = "missing-denominazione"
	// ReasonMissingEvidence: a DURC riscontro without attachments (Milan 3).
	ReasonMissingEvidence = "missing-evidence"
)
