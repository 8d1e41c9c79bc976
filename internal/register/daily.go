// Package register keeps the protocol register as DPR 445/2000 wants it:
// the daily register files (registro giornaliero, art. 53 c.2) chained by
// their fingerprints and handed over to conservation, their verification,
// and the annulments and amendments of registrations (art. 54) with the
// mail that tells the sender.
package register

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/store"
)

// Name is the register's name in its metadata.
const Name = "Registro giornaliero di protocollo"

// Columns are the daily register CSV's columns (README, "The protocol
// register"). entry is registration, annulment or amendment; at is when
// the entry was made, RFC 3339 in Europe/Rome.
var Columns = []string{"entry", "protocol", "at", "mailbox", "sender", "subject", "sender_date", "sender_ref", "sha256",
	"field", "old_value", "new_value", "by", "reason", "provvedimento"}

// Meta is the JSON twin of a day's CSV: what conservation files it under,
// and the hash chain.
type Meta struct {
	Register       string `json:"register"`
	Office         string `json:"office"`
	OfficeCode     string `json:"office_code"`
	AOO            string `json:"aoo"`
	Day            string `json:"day"`
	First          string `json:"first"`
	Last           string `json:"last"`
	Count          int    `json:"count"`
	Annulments     int    `json:"annulments"`
	Amendments     int    `json:"amendments"`
	CSVFile        string `json:"csv_file"`
	CSVSHA256      string `json:"csv_sha256"`
	PreviousDay    string `json:"previous_day"`
	PreviousSHA256 string `json:"previous_sha256"` // SHA-256 of the previous day's JSON file
	ProducedAt     string `json:"produced_at"`
	Producer       string `json:"producer"`
}

// Paths are where a day's files are kept under the state directory:
// registro/YYYY/YYYY-MM-DD.csv and .json.
func Paths(stateDir string, day time.Time) (string, string) {
	d := day.In(clock.Rome).Format(time.DateOnly)
	base := filepath.Join(stateDir, "registro", d[:4], d)
	return base + ".csv", base + ".json"
}

// CSV writes a day's entries: the registrations by number, then the
// annulments and the amendments in the order they were made.
func CSV(e store.RegisterEntries) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(Columns)
	at := func(t time.Time) string { return t.In(clock.Rome).Format(time.RFC3339) }
	for _, r := range e.Registrations {
		w.Write([]string{"registration", r.Label, at(r.At), r.Mailbox, r.Sender, r.Subject, r.SenderDate, r.SenderRef, r.SHA256,
			"", "", "", "", "", ""})
	}
	for _, a := range e.Annulments {
		w.Write([]string{"annulment", a.Protocol, at(a.At), "", "", "", "", "", "", "", "", "", a.By, a.Reason, a.Provvedimento})
	}
	for _, a := range e.Amendments {
		w.Write([]string{"amendment", a.Protocol, at(a.At), "", "", "", "", "", "", a.Field, a.Old, a.New, a.By, a.Reason, ""})
	}
	w.Flush()
	return b.Bytes()
}

// Office names whose register it is.
type Office struct {
	Name, Code, AOO string
}

// MetaOf is the metadata of a day's CSV, chained to the previous day's
// JSON (prevDay zero and prevSHA "" for the first day).
func MetaOf(o Office, day time.Time, e store.RegisterEntries, csvBytes []byte, prevDay time.Time, prevSHA string, now time.Time, producer string) Meta {
	m := Meta{Register: Name, Office: o.Name, OfficeCode: o.Code, AOO: o.AOO, Day: day.Format(time.DateOnly),
		Count: len(e.Registrations), Annulments: len(e.Annulments), Amendments: len(e.Amendments),
		CSVFile: day.Format(time.DateOnly) + ".csv", CSVSHA256: hexSHA(csvBytes), PreviousSHA256: prevSHA,
		ProducedAt: now.In(clock.Rome).Format(time.RFC3339), Producer: producer}
	if !prevDay.IsZero() {
		m.PreviousDay = prevDay.Format(time.DateOnly)
	}
	if n := len(e.Registrations); n > 0 {
		m.First, m.Last = e.Registrations[0].Label, e.Registrations[n-1].Label
	}
	return m
}

// Encode writes the metadata as the day's JSON file.
func (m Meta) Encode() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("register: encoding metadata: %v", err)) // only strings and ints: cannot fail
	}
	return append(b, '\n')
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
