package demo

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/smtpsink"
)

// printAnswers lists the answers the sink received, then shows an
// acknowledgment and a refusal in full, decoded.
func printAnswers(w io.Writer, msgs []smtpsink.Received) error {
	fmt.Fprintf(w, "\nThe answers sent (%d, received by the SMTP sink):\n\n", len(msgs))
	var ack, refusal *smtpsink.Received
	for i, m := range msgs {
		h, body, err := decode(m.Raw)
		if err != nil {
			return err
		}
		subj, _ := h.Subject()
		fmt.Fprintf(w, "  to %-40s %s\n", strings.Join(m.To, ","), subj)
		switch {
		case ack == nil && strings.HasPrefix(subj, "Protocollo"):
			ack = &msgs[i]
		case refusal == nil && strings.Contains(body, "manca il codice fiscale"):
			refusal = &msgs[i]
		}
	}
	for _, m := range []*smtpsink.Received{ack, refusal} {
		if m == nil {
			continue
		}
		h, body, _ := decode(m.Raw)
		subj, _ := h.Subject()
		fmt.Fprintf(w, "\n----- MAIL FROM %s\nFrom: %s\nTo: %s\nSubject: %s\nAuto-Submitted: %s\nIn-Reply-To: %s\n\n%s",
			m.From, h.Get("From"), h.Get("To"), subj, h.Get("Auto-Submitted"), h.Get("In-Reply-To"), body)
	}
	return nil
}

// decode returns an answer's header and its decoded text.
func decode(raw []byte) (*mail.Header, string, error) {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return nil, "", fmt.Errorf("reading an answer: %w", err)
	}
	var body strings.Builder
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p.Body)
		body.Write(b)
	}
	return &r.Header, body.String(), nil
}
