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
)
