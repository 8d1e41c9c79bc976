// Package rules loads an office's rules directory (rules/<office>/):
// ufficio.yaml (the office, its calendar, the Ordine, the Cassetto, PEC
// trust), caselle.yaml (the mailboxes and their roles and deadlines) and
// vocabolario.yaml (gestioni, DURC topics, telematic-only requests). The
// files are written in Italian for the office's operators. Every problem
// is reported at once, as file:line: message.
package rules

import (
	"crypto/x509"
	"io/fs"
	"strings"
	"time"

	"gatewayd/internal/subject"
	"gatewayd/internal/workdays"
)

// Mailbox roles.
const (
	RolePEC           = "pec"           // PEC intake: only genuine PEC is handled (C1)
	RoleInstitutional = "istituzionale" // institutional mailbox (C3, C4, C5)
	RoleDURC          = "durc"          // DURC topics only (C3)
	RoleNormative     = "normativa"     // normative questions from the Ordine (C6)
)

// Rules are an office's loaded, validated rules. They are immutable: a
// reload builds new Rules and swaps them in.
type Rules struct {
	Dir        string
	Office     Office
	Calendar   *workdays.Calendar
	Mailboxes  map[string]*Mailbox // by lower-case address
	List       []*Mailbox          // the same, in the order of caselle.yaml
	Vocabulary subject.Vocabulary
	DURC       Topic
	Telematic  []Telematic
	Ordine     map[string]bool // lower-case sender addresses
	// AuthServIDs are the authserv-ids (lower case) of the office's own mail
	// servers: only their Authentication-Results header fields are trusted.
	AuthServIDs []string
	// NameRequired are the gestioni whose subjects must also carry the
	// taxpayer's name (denominazione).
	NameRequired map[string]bool
	Cassetto     Cassetto
	MinSummary   int // letters and digits
	// AnswerLimit caps the automatic answers to one sender per day (0: none).
	AnswerLimit int
	// RetentionDays: a message's bytes are removed this many days after its
	// case closed (or it was decided, without a case); 0 keeps them.
	RetentionDays int
	PECTrust      []*x509.Certificate // anchors added (or, with PECTrustReplace, the only ones)
	// PECTrustReplace: only PECTrust's anchors are trusted, not the system's.
	PECTrustReplace bool
	// Deadlines are the ladders of scadenze.yaml (nil: none).
	Deadlines *Deadlines

	fsys  fs.FS
	fsDir string
}

// Office names the office.
type Office struct {
	Name, Code, City string
	// AOO is the office's code as an Area Organizzativa Omogenea in the
	// Indice dei domicili digitali della PA (IPA): the daily register's
	// metadata name it.
	AOO string
}

// Mailbox is one of the office's addresses and how it is handled.
type Mailbox struct {
	Address string
	Role    string
	Days    int    // working days to answer (D1)
	DURCBox string // where DURC topics go, for the wrong-mailbox answer
	Manager string // who receives the solleciti (deadlines issue)
}

// Topic is a subject matter recognised by keywords.
type Topic struct {
	Keywords []string
	// Riscontro are the words of a reply to a preavviso di accertamento,
	// which must carry its evidence attached (Milan 3).
	Riscontro []string
}

// Telematic is a request that may be filed only online (C2).
type Telematic struct {
	Name     string
	Keywords []string
	Service  string // where to file it
}

// Cassetto is the office's choice on companies with employees (C5).
type Cassetto struct {
	Refuse       bool   // refuse institutional mail of gestione aziende-con-dipendenti
	OptOutMarker string // a subject holding it is accepted all the same
	Service      string // the Cassetto's address, for the answer
}

// Mailbox returns the rules of an address (case-insensitive).
func (r *Rules) Mailbox(address string) (*Mailbox, bool) {
	m, ok := r.Mailboxes[strings.ToLower(strings.TrimSpace(address))]
	return m, ok
}

// DURCBox returns the office's first DURC mailbox, for answers.
func (r *Rules) DURCBox() string {
	for _, m := range r.List {
		if m.Role == RoleDURC {
			return m.Address
		}
	}
	return ""
}

// Due returns the due date of a mail received at t in a mailbox.
func (r *Rules) Due(m *Mailbox, t time.Time) time.Time {
	return r.Calendar.Due(t, m.Days)
}
