package answer

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// Notice is a deadline mail (a sollecito, an escalation) about a case: it
// carries what identifies the communication (REQUIREMENTS D2), since an
// escalation without those data cannot be handled.
type Notice struct {
	Template   string // the level's template
	Level      string // the level's name
	OfficeName string
	OfficeCode string
	From       string   // the mailbox's account
	To, Cc     []string // resolved from the level's roles
	Data       Data     // the case: protocol, received, codice fiscale, mailbox, subject, Message-ID, due, levels sent
	Now        time.Time
}

// ComposeNotice writes a deadline mail: automatic (Auto-Submitted:
// auto-generated), referring to the original message, with a Message-ID
// that names the level and the protocol number and a random part.
func ComposeNotice(t *Templates, n Notice) (*Message, error) {
	for _, a := range append(append([]string{n.From}, n.To...), n.Cc...) {
		if err := checkAddress("notice", a); err != nil {
			return nil, err
		}
	}
	if len(n.To) == 0 {
		return nil, fmt.Errorf("notice %s goes to nobody", n.Level)
	}
	d := n.Data
	d.Office, d.Level, d.Manager = n.OfficeName, n.Level, strings.Join(n.To, ", ")
	d = d.cleaned()
	text, err := t.Render(n.Template, d)
	if err != nil {
		return nil, err
	}
	sig, err := t.Render(TplSignature, d)
	if err != nil {
		return nil, err
	}
	body := stripBidi(strings.TrimRight(text, "\n")+"\n\n"+strings.TrimRight(sig, "\n")) + "\n"
	number := d.Protocol[strings.LastIndexByte(d.Protocol, '.')+1:]
	m := &Message{Kind: n.Level, From: n.From, To: strings.Join(n.To, ","),
		MessageID: fmt.Sprintf("gatewayd.%s.%s.%s.%s@%s", cleanToken(n.Level), strings.ToLower(n.OfficeCode), cleanToken(number),
			token(), domainOf(n.From))}
	h := noticeHeader(n, m, d)
	var b bytes.Buffer
	w, err := message.CreateWriter(&b, h.Header)
	if err == nil {
		_, err = io.WriteString(w, crlf(body))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("writing notice: %w", err)
	}
	m.Raw = b.Bytes()
	return m, checkHeaderASCII(m.Raw)
}

func noticeHeader(n Notice, m *Message, d Data) mail.Header {
	var h mail.Header
	h.SetAddressList("From", []*mail.Address{{Name: Clean(n.OfficeName), Address: n.From}})
	h.SetAddressList("To", addresses(n.To))
	if len(n.Cc) > 0 {
		h.SetAddressList("Cc", addresses(n.Cc))
	}
	level := strings.ToUpper(strings.ReplaceAll(n.Level, "-", " "))
	h.SetSubject(fmt.Sprintf("%s - Protocollo %s - %s", level, d.Protocol, d.Subject))
	h.SetDate(n.Now)
	h.SetMessageID(m.MessageID)
	if id := cleanMsgID(d.MessageID); id != "" {
		h.SetMsgIDList("References", []string{id})
	}
	h.Set("Auto-Submitted", "auto-generated") // RFC 3834 5: not a reply
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	return h
}

func addresses(list []string) []*mail.Address {
	out := make([]*mail.Address, len(list))
	for i, a := range list {
		out[i] = &mail.Address{Address: a}
	}
	return out
}

// cleanToken keeps the letters, digits and dashes of a Message-ID part.
func cleanToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, s)
}
