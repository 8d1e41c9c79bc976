package triage

import (
	"fmt"
	"strings"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
)

// Sender authentication, as SenderAuth records it (STYLE.md 17).
const (
	AuthPEC  = "pec"  // a certified PEC: the provider vouches for daticert's mittente
	AuthPass = "pass" // the office's MTA: DMARC pass, or DKIM pass for the From domain
	AuthFail = "fail" // the office's MTA: DMARC failed for the From domain
	AuthNone = "none" // no trusted result
)

// Authenticated reports a sender the gateway may believe.
func Authenticated(auth string) bool { return auth == AuthPEC || auth == AuthPass }

// authResult reads the Authentication-Results header field (RFC 8601)
// of the office's own MTA — the first one whose authserv-id is one of
// trusted — for the domain of the From address: pass when DMARC passed
// for it (or, without a DMARC verdict, DKIM passed with header.d that
// domain), fail when DMARC failed for it, none otherwise. Fields of other
// authserv-ids are never read: anyone can write them; and the office's
// MTA must remove incoming fields that carry its own authserv-id (RFC 8601
// 5), so only the first is read: a field that cannot be parsed gives none,
// never the next one. Comments and quoted strings are removed first.
func authResult(h textproto.Header, trusted []string) (string, string) {
	from := strings.ToLower(addressOf(h.Get("From")))
	_, domain, ok := strings.Cut(from, "@")
	if !ok || len(trusted) == 0 {
		return AuthNone, ""
	}
	fields := h.FieldsByKey("Authentication-Results")
	for fields.Next() {
		v := cleanAuthResults(fields.Value())
		id, _, _ := strings.Cut(v, ";")
		if f := strings.Fields(id); len(f) == 0 || !contains(trusted, strings.ToLower(f[0])) {
			continue
		}
		return verdict(parseResults(v), domain, strings.Fields(id)[0])
	}
	return AuthNone, fmt.Sprintf("no Authentication-Results of %s", strings.Join(trusted, ", "))
}

// parseResults parses the results of a cleaned field one by one (with
// comments and quoted strings gone, a semicolon only ends a result): a
// result the library cannot read (an unknown method or property, such as
// ARC's header.oldest-pass) is left out, never the others.
func parseResults(v string) []authres.Result {
	id, rest, _ := strings.Cut(v, ";")
	var out []authres.Result
	for _, item := range strings.Split(rest, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		if _, rs, err := authres.Parse(id + "; " + item); err == nil {
			out = append(out, rs...)
		}
	}
	return out
}

// verdict reads one trusted field's results for the From domain.
func verdict(results []authres.Result, domain, id string) (string, string) {
	dkimPass := false
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DMARCResult:
			if !strings.EqualFold(r.From, domain) { // a verdict for no domain, or another, says nothing of From
				continue
			}
			switch r.Value {
			case authres.ResultPass:
				return AuthPass, fmt.Sprintf("%s: dmarc=pass header.from=%s", id, domain)
			case authres.ResultFail:
				return AuthFail, fmt.Sprintf("%s: dmarc=fail header.from=%s", id, domain)
			}
		case *authres.DKIMResult:
			dkimPass = dkimPass || r.Value == authres.ResultPass && strings.EqualFold(r.Domain, domain)
		}
	}
	if dkimPass {
		return AuthPass, fmt.Sprintf("%s: dkim=pass header.d=%s", id, domain)
	}
	return AuthNone, fmt.Sprintf("%s: no dmarc or aligned dkim pass for %s", id, domain)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
