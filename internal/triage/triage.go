// Package triage decides what becomes of a well-formed message: accepted
// (it gets a protocol number), refused (the sender is told why) or ignored
// (automatic mail, never answered).
//
// The intake core only needs the Classifier seam; the agreements' rules
// (REQUIREMENTS C1–C8) plug in behind it.
package triage

import (
	"time"

	"gatewayd/internal/mailparse"
)

// Outcome is what becomes of a message; each has its own IMAP folder.
type Outcome string

// Outcomes. Quarantined is intake's own: the message could not be read.
const (
	Accepted    Outcome = "accepted"
	Refused     Outcome = "refused"
	Ignored     Outcome = "ignored"
	Quarantined Outcome = "quarantined"
)

// Input is what a classifier sees of one message.
type Input struct {
	Mailbox    string // the configured mailbox name
	Address    string // the mailbox's e-mail address
	ReceivedAt time.Time
	Facts      mailparse.Facts
	// Open reopens the raw message, for classifiers that read the body.
	Open func() (ReadSeekCloser, error)
}

// ReadSeekCloser is a raw message opened for reading.
type ReadSeekCloser interface {
	Read(p []byte) (int, error)
	Seek(offset int64, whence int) (int64, error)
	Close() error
}

// Decision is a classifier's verdict with the reason codes behind it and
// what it understood of the message (the answers quote it).
type Decision struct {
	Outcome       Outcome  `json:"outcome"`
	Reasons       []string `json:"reasons"`
	CodiceFiscale string   `json:"codice_fiscale,omitempty"`
	// InvalidValue is what was written as a codice fiscale but fails its check.
	InvalidValue string   `json:"invalid_value,omitempty"`
	Gestione     string   `json:"gestione,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	Subject      string   `json:"subject,omitempty"` // the subject judged (for PEC: the original's)
	Sender       string   `json:"sender,omitempty"`  // the real sender (for PEC: daticert's mittente)
	PEC          *PECInfo `json:"pec,omitempty"`
	Due          string   `json:"due,omitempty"` // YYYY-MM-DD, when accepted
	// RightMailbox is where the mail should have gone (wrong-mailbox).
	RightMailbox string `json:"right_mailbox,omitempty"`
	// Service is the online service to use (telematic-only, use-cassetto).
	Service string `json:"service,omitempty"`
	// PECRef is the Message-ID a verified PEC receipt refers to.
	PECRef string `json:"pec_ref,omitempty"`
	// PECFinalFailure: the receipt says our answer was not delivered, for good.
	PECFinalFailure bool `json:"pec_final_failure,omitempty"`
	// PECReceiptFrom and PECReceiptTo are whose message a receipt is about
	// (daticert's mittente and destinatari): a receipt is linked to our
	// answer only when they are its sender and recipient.
	PECReceiptFrom string   `json:"pec_receipt_from,omitempty"`
	PECReceiptTo   []string `json:"pec_receipt_to,omitempty"`
	// OriginalID is the Message-ID of the message the sender wrote, when
	// it differs from the one received (the original inside a PEC).
	OriginalID string `json:"original_id,omitempty"`
	// OriginalDate is the Date header of the message the sender wrote,
	// when it differs from the one received (the original inside a PEC):
	// the register's sender's date.
	OriginalDate string `json:"original_date,omitempty"`
	// SenderAuth is how the sender was authenticated: pec, pass, fail or
	// none (see Authenticated); AuthDetail says by what.
	SenderAuth string `json:"sender_auth,omitempty"`
	AuthDetail string `json:"auth_detail,omitempty"`
	// FollowsUp is the protocol number of the open case this mail follows
	// up (a reply to our acknowledgment or to the original, or the number
	// in its subject from the case's sender): linked to the case,
	// acknowledged as a follow-up, no new number, no new deadline.
	FollowsUp string `json:"follows_up,omitempty"`
	// RegionAnswer: the follow-up is the region's answer to a question
	// forwarded to it (D4): not acknowledged; the relay's term starts.
	RegionAnswer bool `json:"region_answer,omitempty"`
	// ReplyElsewhere: the answer goes to a Reply-To outside From's domain
	// (honoured for an authenticated sender, but counted as unauthenticated
	// against that address's daily limit).
	ReplyElsewhere bool `json:"reply_elsewhere,omitempty"`
}

// PECInfo is what the PEC check found.
type PECInfo struct {
	Envelope  bool   `json:"envelope"`  // PEC headers present, or signed PEC content
	Kind      string `json:"kind"`      // the signed kind when certified, else the outer headers' claim, or none
	Signature string `json:"signature"` // valid, invalid, untrusted, missing
	Sender    string `json:"sender,omitempty"`
	// OuterKind is what the outer headers claimed, when it differs from the signed kind.
	OuterKind string `json:"outer_kind,omitempty"`
	// AddressedHere: the mailbox is among the signed recipients (certified transport only).
	AddressedHere *bool  `json:"addressed_here,omitempty"`
	Detail        string `json:"detail,omitempty"` // why the signature is not valid, for operators
	// Identificativo is the transport envelope's daticert identificativo:
	// the register's sender's reference for a PEC.
	Identificativo string `json:"identificativo,omitempty"`
}

// Classifier decides on one well-formed message. It must be safe for
// concurrent use and must not block on the network.
type Classifier interface {
	Classify(in Input) Decision
}

// AcceptAll is the default classifier: every well-formed message is accepted.
type AcceptAll struct{}

// Classify accepts.
func (AcceptAll) Classify(Input) Decision {
	return Decision{Outcome: Accepted, Reasons: []string{}}
}
