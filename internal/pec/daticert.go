package pec

import (
	"bytes"

	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
)

// Daticert is daticert.xml, the provider's certified data.
type Daticert struct {
	Tipo             string
	Errore           string
	ErroreEsteso     string // the extended error of a failure notice, e.g. "5.1.1 …"
	Mittente         string
	Destinatari      []string
	Oggetto          string
	GestoreEmittente string
	Data             time.Time
	Identificativo   string
	MsgID            string // the Message-ID of the original message, without <>
}

type daticertXML struct {
	Tipo         string `xml:"tipo,attr"`
	Errore       string `xml:"errore,attr"`
	Intestazione struct {
		Mittente    string   `xml:"mittente"`
		Destinatari []string `xml:"destinatari"`
		Oggetto     string   `xml:"oggetto"`
	} `xml:"intestazione"`
	Dati struct {
		GestoreEmittente string `xml:"gestore-emittente"`
		Data             struct {
			Zona   string `xml:"zona,attr"`
			Giorno string `xml:"giorno"`
			Ora    string `xml:"ora"`
		} `xml:"data"`
		Identificativo string `xml:"identificativo"`
		MsgID          string `xml:"msgid"`
		ErroreEsteso   string `xml:"errore-esteso"`
	} `xml:"dati"`
}

// ParseDaticert reads daticert.xml.
func ParseDaticert(b []byte) (*Daticert, error) {
	var x daticertXML
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = charset.Reader // providers also write ISO-8859-1
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("daticert.xml: %w", err)
	}
	d := &Daticert{Tipo: strings.ToLower(strings.TrimSpace(x.Tipo)), Errore: x.Errore,
		ErroreEsteso: strings.TrimSpace(x.Dati.ErroreEsteso), Mittente: strings.TrimSpace(x.Intestazione.Mittente),
		Oggetto: strings.TrimSpace(x.Intestazione.Oggetto), GestoreEmittente: strings.TrimSpace(x.Dati.GestoreEmittente),
		Identificativo: strings.TrimSpace(x.Dati.Identificativo), MsgID: strings.Trim(strings.TrimSpace(x.Dati.MsgID), "<>")}
	for _, r := range x.Intestazione.Destinatari {
		d.Destinatari = append(d.Destinatari, strings.TrimSpace(r))
	}
	zone := strings.TrimSpace(x.Dati.Data.Zona)
	if zone == "" {
		zone = "+0100"
	}
	if t, err := time.Parse("02/01/2006 15:04:05 -0700", strings.TrimSpace(x.Dati.Data.Giorno)+" "+
		strings.TrimSpace(x.Dati.Data.Ora)+" "+zone); err == nil {
		d.Data = t
	}
	return d, nil
}
