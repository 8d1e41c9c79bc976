// Package answer writes the gateway's automatic answers (REQUIREMENTS P2):
// Italian texts from the office's templates (rules/<office>/templates/),
// and the RFC 5322 message around them, with the RFC 3834 headers of an
// automatic reply. It is pure: no SMTP, no SQL.
package answer

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"gatewayd/internal/config"
	"gatewayd/internal/triage"
)

// Template names (files NAME.txt in the templates directory).
const (
	TplAcknowledgment = "accettazione"
	TplRefusalHeader  = "rifiuto"
	TplSignature      = "firma"
	TplFollowup       = "seguito"
	TplSollecito      = "sollecito"
	TplEscalation     = "escalation"
	TplAnnulment      = "annullamento"
)

// ReasonTemplate returns the template of one refusal reason.
func ReasonTemplate(reason string) string { return "motivo-" + reason }

// RefusalReasons are the reasons an answer explains, one template each.
var RefusalReasons = []string{
	triage.ReasonNotCertified, triage.ReasonPECInvalidSignature, triage.ReasonMissingCF, triage.ReasonInvalidCF,
	triage.ReasonMissingGestione, triage.ReasonMissingSummary, triage.ReasonWrongMailbox, triage.ReasonUseCassetto,
	triage.ReasonTelematicOnly, triage.ReasonNotFromOrdine, triage.ReasonPECNotAddressedHere, triage.ReasonMissingName,
	triage.ReasonMissingEvidence,
}

// Required lists every template an office must have.
func Required() []string {
	out := []string{TplAcknowledgment, TplRefusalHeader, TplSignature, TplSollecito, TplEscalation, TplFollowup, TplAnnulment}
	for _, r := range RefusalReasons {
		out = append(out, ReasonTemplate(r))
	}
	return out
}

// Templates are an office's parsed, checked templates.
type Templates struct {
	t map[string]*template.Template
}

// Load reads dir/NAME.txt for every required template of fsys and the
// extra ones (the deadline ladders'), checking each by running it on
// sample data: a syntax error or an unknown field is a file:line error;
// every problem is reported at once.
func Load(fsys fs.FS, dir, label string, extra ...string) (*Templates, error) {
	t := &Templates{t: map[string]*template.Template{}}
	var errs config.Errors
	names := Required()
	for _, e := range extra {
		if !slices.Contains(names, e) {
			names = append(names, e)
		}
	}
	for _, name := range names {
		path := filepath.Join(label, name+".txt")
		src, err := fs.ReadFile(fsys, join(dir, name+".txt"))
		if err != nil {
			errs = append(errs, config.Error{File: path, Msg: "missing template (named by the rules: every reason code and every ladder level needs one)"})
			continue
		}
		tpl, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(string(src))
		if err == nil {
			err = tpl.Execute(&bytes.Buffer{}, Sample())
		}
		if err != nil {
			errs = append(errs, templateError(path, err))
			continue
		}
		t.t[name] = tpl
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].File < errs[j].File })
		return nil, errs
	}
	return t, nil
}

func join(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + "/" + name
}

// templateLine finds "template: NAME:LINE:" in text/template's errors.
var templateLine = regexp.MustCompile(`template: [^:]+:(\d+)(?::\d+)?: (.*)`)

func templateError(path string, err error) config.Error {
	e := config.Error{File: path, Msg: err.Error()}
	if m := templateLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	return e
}

var funcs = template.FuncMap{
	"join":  strings.Join,
	"upper": strings.ToUpper,
}

// Render runs one template.
func (t *Templates) Render(name string, d Data) (string, error) {
	tpl, ok := t.t[name]
	if !ok {
		return "", fmt.Errorf("no template %s", name)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.String(), nil
}
