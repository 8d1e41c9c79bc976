package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"RSSMRA85T10A562S - Artigiani":                   "RSSMRA*******62S - Artigiani",
		"cf rssmra85t10a562s, omocodia RSSMRA85T1LA562S": "cf rssmra*******62s, omocodia RSSMRA*******62S",
		"from mario.rossi@studio.example.it":             "from m***@studio.example.it",
		"84000190386 - aziende":                          "84000190386 - aziende", // a company's code is public
		"INPS.FE.2026.0000001":                           "INPS.FE.2026.0000001",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLogger: info records are masked in the message and every attribute
// (strings, errors, lists, groups, bound ones), debug ones are not; times
// are in Europe/Rome with their offset.
func TestLogger(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, "debug", "json").With("sender", "anna.bianchi@pec.example.it")
	log.Info("message recorded RSSMRA85T10A562S", "subject", "RSSMRA85T10A562S - Artigiani", "err", errors.New("rcpt mario@x.it refused"),
		"to", []string{"luca@y.it"}, "message_id", "abc@studio.example.it", "g", map[string]any{})
	log.Debug("debug keeps", "subject", "RSSMRA85T10A562S")
	out := b.String()
	for _, leak := range []string{"RSSMRA85T10A562S - Artigiani", "anna.bianchi@", "mario@", "luca@", "message recorded RSSMRA85T10A562S"} {
		if strings.Contains(out, leak) {
			t.Errorf("info record leaks %q:\n%s", leak, out)
		}
	}
	for _, want := range []string{"RSSMRA*******62S", "a***@pec.example.it", "m***@x.it", "l***@y.it", `"message_id":"abc@studio.example.it"`,
		`"msg":"debug keeps","sender":"a***@pec.example.it","subject":"RSSMRA85T10A562S"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	_, offset := time.Now().In(mustRome()).Zone()
	zone := "+01:00"
	if offset == 7200 {
		zone = "+02:00"
	}
	if !strings.Contains(out, zone+`","level"`) {
		t.Errorf("times are not in Europe/Rome (%s):\n%s", zone, out)
	}
}

func mustRome() *time.Location {
	l, _ := time.LoadLocation("Europe/Rome")
	return l
}
