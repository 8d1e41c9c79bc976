package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// mail builds the i-th mail of the stream: what a professional's office
// sends to an institutional box, a subject the office's rules accept
// (codice fiscale, gestione, summary), 2–8 KB of text, and one in ten with
// a 30–120 KB PDF attached.
func mail(r *rand.Rand, tag string, i int, now time.Time) (id string, b []byte) {
	id = fmt.Sprintf("lat-%s-%d@studio.example.it", tag, i)
	var s strings.Builder
	fmt.Fprintf(&s, "From: Studio Associato %d <studio%d@example.it>\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
		"Subject: RSSMRA85T10A562S - artigiani - richiesta di verifica della posizione contributiva n. %d\r\n"+
		"Date: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", i%97, i%97, i, now.Format(time.RFC1123Z), id)
	text := strings.Repeat("Gentili colleghi, con la presente si chiede la verifica della posizione contributiva "+
		"del contribuente indicato in oggetto, per il periodo dal 2023 al 2025, allegando la documentazione.\r\n", (2_000+r.IntN(6_000))/200+1)
	if i%10 != 9 {
		s.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		s.WriteString(text)
		return id, []byte(s.String())
	}
	s.WriteString("Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n--sep\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	s.WriteString(text)
	s.WriteString("--sep\r\nContent-Type: application/pdf; name=\"estratto.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"estratto.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, 30_000+r.IntN(90_000))
	for j := range raw {
		raw[j] = byte(r.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		s.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	s.WriteString(enc + "\r\n--sep--\r\n")
	return id, []byte(s.String())
}
