package answer

// Data is what a template can use. Fields hold text ready to print.
type Data struct {
	Office         string   // the office's name
	Mailbox        string   // the address the mail arrived at
	Protocol       string   // protocol number (acknowledgment)
	Received       string   // when it arrived, e.g. "16/11/2026 alle 10:00"
	Due            string   // reply due, e.g. "30/11/2026"
	Subject        string   // the original subject
	Sender         string   // who is answered
	CodiceFiscale  string   // as understood
	Gestione       string   // as understood, in words
	Summary        string   // as understood
	InvalidValue   string   // a codice fiscale written wrong
	RightMailbox   string   // where the mail should have gone
	Service        string   // the online service or the Cassetto
	Reasons        []string // reason codes
	ExampleSubject string   // a correct subject for this mailbox
	Manager        string   // solleciti and escalations: who is written to
	DaysLate       int      // solleciti and escalations: working days past due
	// Deadline mails (solleciti, escalations) carry what identifies the
	// communication (D2).
	MessageID  string   // the original's Message-ID
	Level      string   // the ladder's level of this mail
	LevelsSent []string // the levels already sent, with their dates
	Opened     string   // when the case opened (waiting: when the office asked)
	// Annulments: why the registration was annulled and by which act.
	Reason string
	Act    string
}

// Sample is data with every field set, to check templates at load.
func Sample() Data {
	return Data{Office: "Direzione provinciale INPS di Ferrara", Mailbox: "GestioneCredito.Ferrara@inps.it",
		Protocol: "INPS.FE.2026.0000001", Received: "16/11/2026 alle 10:00", Due: "30/11/2026",
		Subject: "RSSMRA85T10A562S - artigiani - richiesta", Sender: "studio@example.it",
		CodiceFiscale: "RSSMRA85T10A562S", Gestione: "artigiani", Summary: "richiesta", InvalidValue: "RSSMRA85T10A562T",
		RightMailbox: "preavvisodiaccertamento.ferrara@inps.it", Service: "www.inps.it", Reasons: []string{"missing-gestione"},
		ExampleSubject: "RSSMRA85T10A562S - Artigiani - richiesta di sgravio avviso di addebito n. 123/2025",
		Manager:        "responsabile Agenzia Flussi", DaysLate: 3, MessageID: "20261116100000.1234@studio.example.it",
		Level: "escalation", LevelsSent: []string{"sollecito (18/12/2026)"}, Opened: "16/11/2026",
		Reason: "registrazione duplicata della stessa comunicazione", Act: "disposizione del dirigente n. 12/2026"}
}

// GestioneWords names each gestione in words, for the answers.
var GestioneWords = map[string]string{
	"aziende-con-dipendenti": "Aziende con dipendenti", "lavoratori-domestici": "Lavoratori domestici",
	"artigiani": "Artigiani", "commercianti": "Commercianti", "gestione-separata": "Gestione separata",
	"aziende-agricole": "Aziende agricole", "sport-spettacolo": "Sport e spettacolo",
}
