package triage

import (
	"net/mail"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// isAutomatic reports mail that must never be answered (C8, RFC 3834):
// Auto-Submitted other than "no", a null return path, delivery and
// disposition reports, mailer-daemon or postmaster senders, list mail,
// and the usual autoresponder markers.
func isAutomatic(h textproto.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return true
	}
	ct := strings.ToLower(h.Get("Content-Type"))
	if strings.HasPrefix(ct, "multipart/report") || strings.HasPrefix(ct, "message/delivery-status") {
		return true
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post", "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if h.Has(k) {
			if k == "X-Auto-Response-Suppress" && !strings.Contains(strings.ToLower(h.Get(k)), "all") {
				continue
			}
			return true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk", "auto_reply":
		return true
	}
	local := strings.ToLower(localPart(h.Get("From")))
	return local == "mailer-daemon" || local == "postmaster" || strings.HasPrefix(local, "noreply") ||
		strings.HasPrefix(local, "no-reply") || strings.HasPrefix(local, "donotreply")
}

// localPart returns the local part of the first address of a header.
func localPart(v string) string {
	a := addressOf(v)
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[:i]
	}
	return a
}

// addressOf returns the bare address of the first mailbox in v.
func addressOf(v string) string {
	if list, err := mail.ParseAddressList(v); err == nil && len(list) > 0 {
		return list[0].Address
	}
	if a, err := mail.ParseAddress(v); err == nil {
		return a.Address
	}
	v = strings.TrimSpace(v)
	if i, j := strings.LastIndexByte(v, '<'), strings.LastIndexByte(v, '>'); i >= 0 && j > i {
		return v[i+1 : j]
	}
	return v
}

// isPECReceipt reports a PEC receipt or anomaly envelope (C8).
func isPECReceipt(h textproto.Header) bool {
	if h.Has("X-Ricevuta") {
		return true
	}
	return strings.EqualFold(strings.TrimSpace(h.Get("X-Trasporto")), "errore")
}
