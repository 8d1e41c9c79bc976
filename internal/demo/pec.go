package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gatewayd/internal/pec/pectest"
)

// demoCA is the demo's throwaway PEC provider: its envelopes are signed
// like a real provider's, and the demo's rules trust its root (as an
// office's rules trust the providers' roots).
var demoCA = pectest.NewCA("pec.demo-provider.it", pectest.Options{})

const pecBox = "direzione.provinciale.ferrara@postacert.inps.gov.it"

// trustDemoCA adds the demo CA's root to the rules' PEC trust anchors.
func trustDemoCA(rulesDir string) error {
	if err := os.WriteFile(filepath.Join(rulesDir, "demo-pec-root.pem"), demoCA.RootPEM(), 0o644); err != nil {
		return fmt.Errorf("writing the demo PEC root: %w", err)
	}
	uf := filepath.Join(rulesDir, "ufficio.yaml")
	b, err := os.ReadFile(uf)
	if err != nil {
		return err
	}
	return os.WriteFile(uf, []byte(strings.Replace(string(b), "ancore_fiducia: []", "ancore_fiducia: [demo-pec-root.pem]", 1)), 0o644)
}

// pecSamples are a genuine certified mail (signed by the demo's provider)
// and an anomaly envelope: an ordinary mail the provider wrapped, which
// the PEC intake refuses.
func pecSamples(users map[string]string) []sample {
	user := users[pecBox]
	certified := demoCA.Envelope(pectest.Message{Kind: "posta-certificata", Sender: "studio.bianchi@pec.commercialisti.fe.it", To: pecBox,
		Subject: "01234560371 - Aziende con dipendenti - istanza di rimborso contributi 2025",
		Body:    "Si trasmette l'istanza di rimborso dei contributi versati in eccesso nel 2025.", MessageID: "opec.demo.1@pec.demo-provider.it"})
	anomaly := demoCA.Envelope(pectest.Message{Kind: "errore", Sender: "segreteria@studio-esempio.it", To: pecBox,
		Subject: "RSSMRA85T10A562S - Artigiani - richiesta inviata da posta ordinaria",
		Body:    "Invio la richiesta dalla casella ordinaria dello studio.", MessageID: "opec.demo.2@pec.demo-provider.it"})
	return []sample{{name: "14-pec-certificata (signed by the demo's PEC provider)", user: user, raw: certified},
		{name: "15-pec-anomalia (an ordinary mail in an anomaly envelope)", user: user, raw: anomaly}}
}
