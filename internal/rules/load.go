package rules

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gatewayd/internal/clock"

	"gatewayd/internal/config"
	"gatewayd/internal/subject"
	"gatewayd/internal/workdays"
)

// The files of a rules directory.
const (
	FileUfficio     = "ufficio.yaml"
	FileCaselle     = "caselle.yaml"
	FileVocabolario = "vocabolario.yaml"
)

// ufficioFile is ufficio.yaml.
type ufficioFile struct {
	Ufficio struct {
		Nome   string `yaml:"nome"`
		Codice string `yaml:"codice"`
		AOO    string `yaml:"aoo"`
		Citta  string `yaml:"citta"`
	} `yaml:"ufficio"`
	Calendario struct {
		SantoPatrono struct {
			Nome   string `yaml:"nome"`
			Giorno int    `yaml:"giorno"`
			Mese   int    `yaml:"mese"`
		} `yaml:"santo_patrono"`
		OrarioLimite string `yaml:"orario_limite"`
		Chiusure     []struct {
			Data   string `yaml:"data"`
			Motivo string `yaml:"motivo"`
		} `yaml:"chiusure"`
	} `yaml:"calendario"`
	Ordine struct {
		Mittenti []string `yaml:"mittenti"`
	} `yaml:"ordine"`
	Autenticazione struct {
		AuthservID []string `yaml:"authserv_id"`
	} `yaml:"autenticazione"`
	Cassetto struct {
		RespingiAziendeConDipendenti bool   `yaml:"respingi_aziende_con_dipendenti"`
		MarcatoreEsclusione          string `yaml:"marcatore_esclusione"`
		Servizio                     string `yaml:"servizio"`
	} `yaml:"cassetto"`
	Oggetto struct {
		LunghezzaMinimaSintesi   int      `yaml:"lunghezza_minima_sintesi"`
		DenominazionePerGestioni []string `yaml:"denominazione_per_gestioni"`
	} `yaml:"oggetto"`
	Conservazione struct {
		MessaggiGiorni int `yaml:"messaggi_giorni"`
	} `yaml:"conservazione"`
	Risposte struct {
		MassimoPerMittenteAlGiorno int `yaml:"massimo_per_mittente_al_giorno"`
	} `yaml:"risposte"`
	PEC struct {
		AncoreFiducia     []string `yaml:"ancore_fiducia"`
		SostituisciAncore bool     `yaml:"sostituisci_ancore"`
	} `yaml:"pec"`
}

// caselleFile is caselle.yaml.
type caselleFile struct {
	Caselle []struct {
		Indirizzo        string `yaml:"indirizzo"`
		Tipo             string `yaml:"tipo"`
		GiorniLavorativi int    `yaml:"giorni_lavorativi"`
		CasellaDURC      string `yaml:"casella_durc"`
		Responsabile     string `yaml:"responsabile"`
	} `yaml:"caselle"`
}

// vocabolarioFile is vocabolario.yaml.
type vocabolarioFile struct {
	Gestioni []struct {
		Nome     string   `yaml:"nome"`
		Sinonimi []string `yaml:"sinonimi"`
	} `yaml:"gestioni"`
	DURC struct {
		ParoleChiave []string `yaml:"parole_chiave"`
		Riscontro    []string `yaml:"riscontro"`
	} `yaml:"durc"`
	ServiziTelematici []struct {
		Nome         string   `yaml:"nome"`
		ParoleChiave []string `yaml:"parole_chiave"`
		Servizio     string   `yaml:"servizio"`
	} `yaml:"servizi_telematici"`
}

// Gestioni are the canonical names the vocabulary must use.
var Gestioni = []string{"aziende-con-dipendenti", "lavoratori-domestici", "artigiani", "commercianti",
	"gestione-separata", "aziende-agricole", "sport-spettacolo"}

// Load reads and validates the rules directory dir.
func Load(dir string) (*Rules, error) {
	return LoadFS(os.DirFS(dir), ".", dir)
}

// LoadFS reads the rules in directory dir of fsys; errors name the files
// under label.
func LoadFS(fsys fs.FS, dir, label string) (*Rules, error) {
	r := &Rules{Dir: label, Mailboxes: map[string]*Mailbox{}, Ordine: map[string]bool{}, fsys: fsys, fsDir: dir}
	var errs config.Errors
	var caselle *config.File
	var uf ufficioFile
	var cf caselleFile
	var vf vocabolarioFile
	var sf scadenzeFile
	for _, f := range []struct {
		name string
		v    any
		load func(*config.File)
	}{
		{FileUfficio, &uf, func(f *config.File) { r.loadUfficio(f, &uf) }},
		{FileCaselle, &cf, func(f *config.File) { r.loadCaselle(f, &cf) }},
		{FileVocabolario, &vf, func(f *config.File) { r.loadVocabolario(f, &vf) }},
		{FileScadenze, &sf, func(f *config.File) { r.loadScadenze(f, &sf) }},
	} {
		path := filepath.Join(label, f.name)
		data, err := fs.ReadFile(fsys, path2(dir, f.name))
		if f.name == FileScadenze && errors.Is(err, fs.ErrNotExist) {
			continue // optional: without it, cases have no ladders
		}
		if err != nil {
			errs = append(errs, config.Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))})
			continue
		}
		file := config.DecodeFile(path, data, f.v)
		f.load(file)
		if f.name == FileCaselle {
			caselle = file
		} else {
			errs = append(errs, file.Errs...)
		}
	}
	if caselle != nil {
		r.crossCheck(caselle)
		errs = append(errs, caselle.Errs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

func (r *Rules) loadUfficio(f *config.File, u *ufficioFile) {
	r.Office = Office{Name: strings.TrimSpace(u.Ufficio.Nome), Code: u.Ufficio.Codice, City: u.Ufficio.Citta, AOO: strings.TrimSpace(u.Ufficio.AOO)}
	if r.Office.Name == "" {
		f.Errf("ufficio", "ufficio.nome è obbligatorio (office name required)")
	}
	if r.Office.Code == "" {
		f.Errf("ufficio", "ufficio.codice è obbligatorio (office code required)")
	}
	r.Calendar = loadCalendar(f, u)
	for i, m := range u.Ordine.Mittenti {
		if !validAddress(m) {
			f.Errf(fmt.Sprintf("ordine.mittenti.%d", i), "%q is not an e-mail address", m)
		}
		r.Ordine[strings.ToLower(m)] = true
	}
	r.Cassetto = Cassetto{Refuse: u.Cassetto.RespingiAziendeConDipendenti,
		OptOutMarker: strings.TrimSpace(u.Cassetto.MarcatoreEsclusione), Service: u.Cassetto.Servizio}
	r.MinSummary = u.Oggetto.LunghezzaMinimaSintesi
	if r.MinSummary < 1 || r.MinSummary > 200 {
		f.Errf("oggetto.lunghezza_minima_sintesi", "lunghezza_minima_sintesi %d: use 1 to 200", r.MinSummary)
	}
	r.loadNameRule(f, u)
	r.loadAuth(f, u)
	r.AnswerLimit = u.Risposte.MassimoPerMittenteAlGiorno
	r.RetentionDays = u.Conservazione.MessaggiGiorni
	if r.RetentionDays < 0 || r.RetentionDays > 0 && r.RetentionDays < 30 {
		f.Errf("conservazione.messaggi_giorni", "messaggi_giorni %d: use 0 (keep every message) or 30 days or more", r.RetentionDays)
	}
	if r.AnswerLimit < 0 {
		f.Errf("risposte.massimo_per_mittente_al_giorno", "massimo_per_mittente_al_giorno %d: use 0 (no limit) or more", r.AnswerLimit)
	}
	r.loadTrust(f, u)
}

// loadNameRule reads the gestioni whose subjects must carry the
// taxpayer's name (Ferrara 2.3: lavoratori domestici).
func (r *Rules) loadNameRule(f *config.File, u *ufficioFile) {
	known := map[string]bool{}
	for _, g := range Gestioni {
		known[g] = true
	}
	r.NameRequired = map[string]bool{}
	for i, g := range u.Oggetto.DenominazionePerGestioni {
		if !known[g] {
			f.Errf(fmt.Sprintf("oggetto.denominazione_per_gestioni.%d", i), "gestione %q: use one of %s", g, strings.Join(Gestioni, ", "))
		}
		r.NameRequired[g] = true
	}
}

// loadAuth reads the authserv-ids whose Authentication-Results are trusted.
func (r *Rules) loadAuth(f *config.File, u *ufficioFile) {
	for i, id := range u.Autenticazione.AuthservID {
		id = strings.TrimSpace(id)
		if id == "" || strings.ContainsAny(id, " \t;\"()") {
			f.Errf(fmt.Sprintf("autenticazione.authserv_id.%d", i), "authserv_id %q: write the host name the office's mail server puts in Authentication-Results", id)
			continue
		}
		r.AuthServIDs = append(r.AuthServIDs, strings.ToLower(id))
	}
}

func loadCalendar(f *config.File, u *ufficioFile) *workdays.Calendar {
	var o workdays.Options
	c := u.Calendario
	if p := c.SantoPatrono; p.Nome != "" || p.Giorno != 0 || p.Mese != 0 {
		if p.Mese < 1 || p.Mese > 12 || p.Giorno < 1 || p.Giorno > 31 {
			f.Errf("calendario.santo_patrono", "santo_patrono: giorno %d, mese %d is no date", p.Giorno, p.Mese)
		}
		o.Patron = append(o.Patron, workdays.Day{Name: p.Nome, Month: time.Month(p.Mese), Day: p.Giorno})
	}
	if c.OrarioLimite != "" {
		t, err := time.Parse("15:04", c.OrarioLimite)
		if err != nil {
			f.Errf("calendario.orario_limite", "orario_limite %q: write HH:MM, e.g. 16:00", c.OrarioLimite)
		}
		o.Cutoff = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	for i, ch := range c.Chiusure {
		d, err := time.ParseInLocation("2006-01-02", ch.Data, clock.Rome)
		if err != nil {
			f.Errf(fmt.Sprintf("calendario.chiusure.%d", i), "chiusura %q: write the date as YYYY-MM-DD", ch.Data)
			continue
		}
		o.Closures = append(o.Closures, workdays.Closure{Name: ch.Motivo, Date: d})
	}
	return workdays.New(o)
}

func (r *Rules) loadTrust(f *config.File, u *ufficioFile) {
	r.PECTrustReplace = u.PEC.SostituisciAncore
	if len(u.PEC.AncoreFiducia) == 0 {
		if r.PECTrustReplace {
			f.Errf("pec.sostituisci_ancore", "sostituisci_ancore is set but ancore_fiducia is empty: no PEC could be trusted")
		}
		return
	}
	for i, name := range u.PEC.AncoreFiducia {
		path := name
		var pem []byte
		var err error
		if filepath.IsAbs(path) {
			pem, err = os.ReadFile(path)
		} else {
			path = filepath.Join(filepath.Dir(f.Path), name)
			pem, err = fs.ReadFile(r.fsys, path2(r.fsDir, name))
		}
		if err != nil {
			f.Errf(fmt.Sprintf("pec.ancore_fiducia.%d", i), "cannot read %s: %v", path, err)
			continue
		}
		certs, err := ParseCertificates(pem)
		if err != nil {
			f.Errf(fmt.Sprintf("pec.ancore_fiducia.%d", i), "%s: %v", path, err)
		}
		r.PECTrust = append(r.PECTrust, certs...)
	}
}

var roles = map[string]bool{RolePEC: true, RoleInstitutional: true, RoleDURC: true, RoleNormative: true}

func (r *Rules) loadCaselle(f *config.File, c *caselleFile) {
	if len(c.Caselle) == 0 {
		f.Errf("caselle", "at least one casella is required")
	}
	for i, m := range c.Caselle {
		p := fmt.Sprintf("caselle.%d", i)
		key := strings.ToLower(m.Indirizzo)
		switch {
		case !validAddress(m.Indirizzo):
			f.Errf(p+".indirizzo", "indirizzo %q is not an e-mail address", m.Indirizzo)
		case r.Mailboxes[key] != nil:
			f.Errf(p+".indirizzo", "indirizzo %s is listed twice", m.Indirizzo)
		}
		if !roles[m.Tipo] {
			f.Errf(p+".tipo", "tipo %q: use pec, istituzionale, durc or normativa", m.Tipo)
		}
		if m.GiorniLavorativi < 1 || m.GiorniLavorativi > 60 {
			f.Errf(p+".giorni_lavorativi", "giorni_lavorativi %d: use 1 to 60", m.GiorniLavorativi)
		}
		if m.CasellaDURC != "" && !validAddress(m.CasellaDURC) {
			f.Errf(p+".casella_durc", "casella_durc %q is not an e-mail address", m.CasellaDURC)
		}
		mb := &Mailbox{Address: m.Indirizzo, Role: m.Tipo, Days: m.GiorniLavorativi,
			DURCBox: m.CasellaDURC, Manager: m.Responsabile}
		r.Mailboxes[key] = mb
		r.List = append(r.List, mb)
	}
}

func (r *Rules) loadVocabolario(f *config.File, v *vocabolarioFile) {
	seen := map[string]bool{}
	for i, g := range v.Gestioni {
		if !known(g.Nome) {
			f.Errf(fmt.Sprintf("gestioni.%d.nome", i), "gestione %q: use one of %s", g.Nome, strings.Join(Gestioni, ", "))
		}
		seen[g.Nome] = true
		r.Vocabulary = append(r.Vocabulary, subject.Gestione{Name: g.Nome, Synonyms: g.Sinonimi})
	}
	for _, g := range Gestioni {
		if !seen[g] {
			f.Errf("gestioni", "gestione %s is missing", g)
		}
	}
	r.DURC = Topic{Keywords: v.DURC.ParoleChiave, Riscontro: v.DURC.Riscontro}
	if len(r.DURC.Keywords) == 0 {
		f.Errf("durc", "durc.parole_chiave must list at least one keyword")
	}
	for i, t := range v.ServiziTelematici {
		p := fmt.Sprintf("servizi_telematici.%d", i)
		if t.Nome == "" || len(t.ParoleChiave) == 0 || t.Servizio == "" {
			f.Errf(p, "a servizio telematico needs nome, parole_chiave and servizio")
		}
		r.Telematic = append(r.Telematic, Telematic{Name: t.Nome, Keywords: t.ParoleChiave, Service: t.Servizio})
	}
}

// crossCheck checks caselle.yaml against the other files.
func (r *Rules) crossCheck(f *config.File) {
	for _, m := range r.List {
		if m.DURCBox != "" {
			if d, ok := r.Mailbox(m.DURCBox); !ok || d.Role != RoleDURC {
				f.Errf("caselle", "casella_durc %s of %s is not listed here as tipo durc", m.DURCBox, m.Address)
			}
		}
		if m.Role == RoleNormative && len(r.Ordine) == 0 {
			f.Errf("caselle", "%s is tipo normativa but ufficio.yaml lists no ordine.mittenti: nothing could be accepted", m.Address)
		}
	}
}

// ParseCertificates reads every PEM certificate of b.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return out, fmt.Errorf("bad certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// path2 joins fs.FS path elements ("." stays out).
func path2(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func known(g string) bool {
	for _, k := range Gestioni {
		if k == g {
			return true
		}
	}
	return false
}

func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}
