package triage

import "strings"

// cleanAuthResults removes what RFC 8601 allows inside an
// Authentication-Results value but a simple parser trips on: comments
// (nested, with quoted pairs) and quoted strings, whose semicolons would
// otherwise split a result in two (an OpenDKIM "(2048-bit key; …)", or a
// MAIL FROM an attacker chose, "x;dmarc=pass"@evil.example). A quoted
// string becomes the token "quoted": its content never matters here.
func cleanAuthResults(v string) string {
	var b strings.Builder
	depth, inQuote, escaped := 0, false, false
	for _, r := range v {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && (inQuote || depth > 0):
			escaped = true
		case inQuote:
			if r == '"' {
				inQuote = false
				b.WriteString("quoted")
			}
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth > 0:
		case r == '"':
			inQuote = true
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
