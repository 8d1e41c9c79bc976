package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"gatewayd/internal/config"
)

// FileScadenze is the rules file of the deadlines: ladders, roles, hours.
const FileScadenze = "scadenze.yaml"

// Kinds of ladder: who is late, and from when its terms count.
const (
	LadderReply   = "risposta"  // the office owes the sender a reply (D2)
	LadderWaiting = "attesa"    // the office waits on the professional (D3)
	LadderRegion  = "regione"   // a normative question forwarded to the region (D4)
	LadderRelay   = "riscontro" // the region answered: the office relays it to the Ordine (D4)
)

// Anchors of a level's term: the day its N working days count from.
const (
	AnchorReceipt  = "ricezione"  // the day the mail counts as received
	AnchorDue      = "scadenza"   // the due date
	AnchorPrevious = "precedente" // the day of the level before
	AnchorRequest  = "richiesta"  // the day the office asked the professional (attesa)
	AnchorForward  = "inoltro"    // the day the question went to the region (regione)
	AnchorAnswer   = "risposta"   // the day the region answered (riscontro)
)

// RoleSender is the role of the case's own sender (the professional).
const RoleSender = "mittente"

// Level is one step of a ladder: on the first working day after its term
// ends, a mail from its template goes to its To and Cc roles.
type Level struct {
	Name     string
	After    string // an Anchor
	Days     int    // working days
	To, Cc   []string
	Template string
}

// Ladder is the levels of one kind for some mailboxes.
type Ladder struct {
	Name      string
	Kind      string
	Roles     map[string]bool // mailbox roles it applies to (pec, istituzionale, …)
	Mailboxes map[string]bool // or these addresses, lower case
	Levels    []Level
}

// Deadlines are an office's ladders and their settings.
type Deadlines struct {
	Hour            time.Duration // steps are taken on working days at this hour
	OfficeFrom      time.Duration // mails leave only between OfficeFrom and OfficeTo
	OfficeTo        time.Duration
	WaitMarker      string // the subject marker of a request to the professional
	WaitPausesClock bool   // while waiting, the office's own term stands still
	AppointmentDays int    // D5: open longer than this many days qualifies
	RepeatedDelays  int    // D3, Milan 2.G: this many late replies flag a sender
	Ladders         []Ladder
	roles           map[string]role
}

// role is who a role's mails go to: everywhere, or per mailbox.
type role struct {
	all        []string
	perMailbox map[string][]string // lower-case mailbox → addresses
}

// Ladder returns the ladder of a kind for a mailbox, or nil.
func (d *Deadlines) Ladder(kind string, m *Mailbox) *Ladder {
	if d == nil || m == nil {
		return nil
	}
	for i := range d.Ladders {
		l := &d.Ladders[i]
		if l.Kind == kind && (l.Mailboxes[strings.ToLower(m.Address)] || l.Roles[m.Role]) {
			return l
		}
	}
	return nil
}

// Addresses resolves roles for a case of mailbox m whose sender is sender.
func (d *Deadlines) Addresses(roles []string, m *Mailbox, sender string) []string {
	var out []string
	for _, name := range roles {
		if name == RoleSender {
			out = append(out, sender)
			continue
		}
		r := d.roles[name]
		if v, ok := r.perMailbox[strings.ToLower(m.Address)]; ok {
			out = append(out, v...)
		} else {
			out = append(out, r.all...)
		}
	}
	return out
}

// scadenzeFile is scadenze.yaml.
type scadenzeFile struct {
	Invio struct {
		Orario        string `yaml:"orario"`
		OrarioUfficio struct {
			Inizio string `yaml:"inizio"`
			Fine   string `yaml:"fine"`
		} `yaml:"orario_ufficio"`
	} `yaml:"invio"`
	Attesa struct {
		Marcatore       string `yaml:"marcatore"`
		SospendeTermine bool   `yaml:"sospende_termine"`
		RitardiRipetuti int    `yaml:"ritardi_ripetuti"`
	} `yaml:"attesa"`
	Appuntamento struct {
		GiorniAperto int `yaml:"giorni_aperto"`
	} `yaml:"appuntamento"`
	Ruoli map[string]yaml.Node `yaml:"ruoli"`
	Scale []scala              `yaml:"scale"`
}

// scala is one ladder of scadenze.yaml.
type scala struct {
	Nome        string    `yaml:"nome"`
	Tipo        string    `yaml:"tipo"`
	TipiCasella []string  `yaml:"tipi_casella"`
	Caselle     []string  `yaml:"caselle"`
	Livelli     []livello `yaml:"livelli"`
}

var anchors = map[string]map[string]bool{
	LadderReply:   {AnchorReceipt: true, AnchorDue: true, AnchorPrevious: true},
	LadderWaiting: {AnchorRequest: true, AnchorPrevious: true},
	LadderRegion:  {AnchorForward: true, AnchorPrevious: true},
	LadderRelay:   {AnchorAnswer: true, AnchorPrevious: true},
}

// loadScadenze reads scadenze.yaml; it needs the caselle loaded.
func (r *Rules) loadScadenze(f *config.File, s *scadenzeFile) {
	d := &Deadlines{roles: map[string]role{}, WaitMarker: strings.TrimSpace(s.Attesa.Marcatore),
		WaitPausesClock: s.Attesa.SospendeTermine, AppointmentDays: s.Appuntamento.GiorniAperto,
		RepeatedDelays: s.Attesa.RitardiRipetuti}
	d.Hour = clockTime(f, "invio.orario", s.Invio.Orario, 8*time.Hour+30*time.Minute)
	d.OfficeFrom = clockTime(f, "invio.orario_ufficio.inizio", s.Invio.OrarioUfficio.Inizio, 8*time.Hour)
	d.OfficeTo = clockTime(f, "invio.orario_ufficio.fine", s.Invio.OrarioUfficio.Fine, 18*time.Hour)
	if d.Hour < d.OfficeFrom || d.Hour >= d.OfficeTo {
		f.Errf("invio.orario", "orario %s is outside office hours (%s-%s): no mail could leave", s.Invio.Orario,
			s.Invio.OrarioUfficio.Inizio, s.Invio.OrarioUfficio.Fine)
	}
	if d.AppointmentDays == 0 {
		d.AppointmentDays = 7
	}
	names := make([]string, 0, len(s.Ruoli))
	for name := range s.Ruoli {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n := s.Ruoli[name]
		d.roles[name] = r.loadRole(f, "ruoli."+name, &n)
	}
	for i, l := range s.Scale {
		d.Ladders = append(d.Ladders, r.loadLadder(f, d, i, l))
	}
	r.Deadlines = d
}

// clockTime reads "HH:MM" as the time since midnight.
func clockTime(f *config.File, path, v string, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	t, err := time.Parse("15:04", v)
	if err != nil {
		f.Errf(path, "%q: write HH:MM, e.g. 08:30", v)
		return def
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

// loadRole reads a role: a list of addresses, or a map from casella to
// its list.
func (r *Rules) loadRole(f *config.File, path string, n *yaml.Node) role {
	var ro role
	switch n.Kind {
	case yaml.SequenceNode:
		ro.all = r.addressList(f, path, n)
	case yaml.MappingNode:
		ro.perMailbox = map[string][]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			box := n.Content[i].Value
			if _, ok := r.Mailbox(box); !ok {
				f.Errf(path+"."+box, "ruolo per la casella %s, che non è tra le caselle", box)
			}
			ro.perMailbox[strings.ToLower(box)] = r.addressList(f, path+"."+box, n.Content[i+1])
		}
	default:
		f.Errf(path, "a role is a list of addresses, or a list per casella")
	}
	return ro
}

func (r *Rules) addressList(f *config.File, path string, n *yaml.Node) []string {
	var list []string
	if err := n.Decode(&list); err != nil {
		f.Errf(path, "a list of e-mail addresses: %v", err)
		return nil
	}
	for i, a := range list {
		if !validAddress(a) {
			f.Errf(fmt.Sprintf("%s.%d", path, i), "%q is not an e-mail address", a)
		}
	}
	return list
}

// livello is one level of a ladder.
type livello struct {
	Nome    string   `yaml:"nome"`
	Dopo    string   `yaml:"dopo"`
	Giorni  int      `yaml:"giorni"`
	A       []string `yaml:"a"`
	Cc      []string `yaml:"cc"`
	Modello string   `yaml:"modello"`
}

func (r *Rules) loadLadder(f *config.File, d *Deadlines, i int, sc scala) Ladder {
	name, kind, tipi, caselle, livelli := sc.Nome, sc.Tipo, sc.TipiCasella, sc.Caselle, sc.Livelli
	p := fmt.Sprintf("scale.%d", i)
	l := Ladder{Name: name, Kind: kind, Roles: map[string]bool{}, Mailboxes: map[string]bool{}}
	if anchors[kind] == nil {
		f.Errf(p+".tipo", "tipo %q: use risposta, attesa, regione or riscontro", kind)
	}
	for j, t := range tipi {
		if !roles[t] {
			f.Errf(fmt.Sprintf("%s.tipi_casella.%d", p, j), "tipo di casella %q: use pec, istituzionale, durc or normativa", t)
		}
		l.Roles[t] = true
	}
	for j, c := range caselle {
		if _, ok := r.Mailbox(c); !ok {
			f.Errf(fmt.Sprintf("%s.caselle.%d", p, j), "casella %s is not among the caselle", c)
		}
		l.Mailboxes[strings.ToLower(c)] = true
	}
	if len(tipi)+len(caselle) == 0 {
		f.Errf(p, "scala %q applies to no casella: name tipi_casella or caselle", name)
	}
	if len(livelli) == 0 {
		f.Errf(p+".livelli", "scala %q has no livelli", name)
	}
	seen := map[string]bool{}
	for j, lv := range livelli {
		lp := fmt.Sprintf("%s.livelli.%d", p, j)
		switch {
		case lv.Nome == "" || seen[lv.Nome]:
			f.Errf(lp+".nome", "every livello needs a name of its own")
		case !anchors[kind][lv.Dopo] || j == 0 && lv.Dopo == AnchorPrevious:
			f.Errf(lp+".dopo", "dopo %q: a %s level counts from %s", lv.Dopo, kind, anchorList(kind, j == 0))
		case lv.Giorni < 0 || lv.Giorni > 60:
			f.Errf(lp+".giorni", "giorni %d: use 0 to 60", lv.Giorni)
		case len(lv.A) == 0:
			f.Errf(lp+".a", "livello %q goes to nobody: name a role in a", lv.Nome)
		case lv.Modello == "":
			f.Errf(lp+".modello", "livello %q needs its modello (a template of templates/)", lv.Nome)
		}
		seen[lv.Nome] = true
		checkRoles(f, d, lp+".a", lv.A)
		checkRoles(f, d, lp+".cc", lv.Cc)
		l.Levels = append(l.Levels, Level{Name: lv.Nome, After: lv.Dopo, Days: lv.Giorni, To: lv.A, Cc: lv.Cc, Template: lv.Modello})
	}
	return l
}

// checkRoles reports the role names that are not among the ruoli.
func checkRoles(f *config.File, d *Deadlines, path string, names []string) {
	for k, ro := range names {
		if _, ok := d.roles[ro]; !ok && ro != RoleSender {
			f.Errf(fmt.Sprintf("%s.%d", path, k), "ruolo %q is not among the ruoli", ro)
		}
	}
}

func anchorList(kind string, first bool) string {
	var out []string
	for a := range anchors[kind] {
		if !(first && a == AnchorPrevious) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Templates returns the templates the ladders name.
func (d *Deadlines) Templates() []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range d.Ladders {
		for _, lv := range l.Levels {
			if !seen[lv.Template] {
				seen[lv.Template] = true
				out = append(out, lv.Template)
			}
		}
	}
	return out
}

// LadderTemplates returns the templates the ladders name (none without
// rules or ladders).
func (r *Rules) LadderTemplates() []string {
	if r == nil || r.Deadlines == nil {
		return nil
	}
	return r.Deadlines.Templates()
}

// Counterparts are the addresses whose answer on a case of mailbox m is
// awaited besides its sender's: those a regione ladder writes to, in To
// (the region's offices; those in Cc are only informed).
func (d *Deadlines) Counterparts(m *Mailbox) []string {
	l := d.Ladder(LadderRegion, m)
	if l == nil {
		return nil
	}
	var out []string
	for _, lv := range l.Levels {
		for _, a := range d.Addresses(lv.To, m, "") {
			if a != "" {
				out = append(out, a)
			}
		}
	}
	return out
}
