package triage_test

import (
	"fmt"
	"strings"
	"time"

	"gatewayd/internal/pec/pectest"
)

// goldenCase is one message of testdata/triage: where it arrives, when,
// and how it is made (a plain mail, or a PEC envelope).
type goldenCase struct {
	name, office, mailbox, at string
	from, subject, extra      string // plain mail: From, Subject, more header lines
	body                      string // plain mail: the body after extra's Content-Type (default: text)
	pec                       *pectest.Message
	otherCA                   bool // PEC signed by a CA nobody trusts
}

// Authentication-Results as the office's MTA (mx.inps.it) writes them.
const (
	arOrdinePass = "Authentication-Results: mx.inps.it; spf=pass smtp.mailfrom=odcec.fe.it;\r\n dkim=pass header.d=odcec.fe.it; dmarc=pass header.from=odcec.fe.it\r\n"
	arOrdineDKIM = "Authentication-Results: mx.inps.it; dkim=pass header.d=odcec.fe.it header.s=sel\r\n"
	arForeign    = "Authentication-Results: mx.inps.it.attacker.example; dmarc=pass header.from=odcec.fe.it\r\n"
	arDMARCFail  = "Authentication-Results: mx.inps.it; spf=fail smtp.mailfrom=bianchi.it; dmarc=fail header.from=bianchi.it\r\n"
	withPDF      = "Content-Type: multipart/mixed; boundary=x\r\n"
	pdfBody      = "--x\r\nContent-Type: text/plain\r\n\r\nIn allegato le quietanze.\r\n--x\r\nContent-Type: application/pdf; name=quietanza.pdf\r\n" +
		"Content-Disposition: attachment; filename=quietanza.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--x--\r\n"
	dsnInMixed = "--x\r\nContent-Type: text/plain\r\n\r\nMessaggio inoltrato.\r\n--x\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=y\r\n\r\n" +
		"--y\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--y\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--y--\r\n--x--\r\n"
)

// with returns c changed by f.
func (c goldenCase) with(f func(*goldenCase)) goldenCase {
	f(&c)
	return c
}

const (
	feGC   = "GestioneCredito.Ferrara@inps.it"
	feAF   = "AnagraficaFlussi.Ferrara@inps.it"
	feDURC = "preavvisodiaccertamento.ferrara@inps.it"
	feNorm = "direzione.ferrara@inps.it"
	fePEC  = "direzione.provinciale.ferrara@postacert.inps.gov.it"
	monday = "2026-11-16T10:00:00+01:00"
)

func fe(name, mailbox, from, subject string) goldenCase {
	return goldenCase{name: name, office: "ferrara", mailbox: mailbox, at: monday, from: from, subject: subject}
}

func mi(name, mailbox, from, subject string) goldenCase {
	return goldenCase{name: name, office: "milano", mailbox: mailbox, at: monday, from: from, subject: subject}
}

func fePEC1(name, subject string, m pectest.Message) goldenCase {
	if m.Kind == "" {
		m.Kind = "posta-certificata"
	}
	m.Sender, m.To, m.Subject = "studio.rossi@pec.commercialisti.it", fePEC, subject
	m.Body = "Si trasmette l'istanza in allegato."
	m.Date = time.Date(2026, 11, 16, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	m.MessageID = "opec." + name + "@pec.test.it"
	return goldenCase{name: name, office: "ferrara", mailbox: fePEC, at: monday, pec: &m}
}

var goldenCases = []goldenCase{
	fe("fe-ok-artigiani", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"),
	fe("fe-ok-commercianti-encoded", feAF, "studio@verdi.it", "=?UTF-8?Q?Commercianti_=E2=80=93_C.F._VRDLNE70A41D548A_=E2=80=93_variazione_attivit=C3=A0?="),
	fe("fe-ok-domestici", feGC, "studio@bianchi.it", "colf | BNCLRA80A41D548W | Bianchi Laura | rimborso contributi 2024 versati due volte"),
	fe("fe-domestici-missing-name", feGC, "studio@bianchi.it", "colf | BNCLRA80A41D548W | rimborso contributi 2024 versati due volte"),
	fe("fe-domestici-wrong-name", feGC, "studio@bianchi.it", "lavoratori domestici BNCLRA80A41D548W Rossi Laura rimborso contributi 2024"),
	fe("fe-ok-gestione-separata", feAF, "studio@bianchi.it", "Gestione separata: RSSMRA85T10A562S: iscrizione committente"),
	fe("fe-ok-agricole", feGC, "studio@bianchi.it", "01234560371 / aziende agricole / verifica contribuzione 2025"),
	fe("fe-ok-sport-spettacolo", feAF, "studio@bianchi.it", "Sport e spettacolo, 01234560371, posizione contributiva lavoratori"),
	fe("fe-ok-aziende-non-cassetto", feGC, "studio@bianchi.it", "01234560371 aziende con dipendenti NON CASSETTO - questione complessa su rettifica"),
	fe("fe-ok-omocodia", feGC, "studio@bianchi.it", "RSSMRAQRCMNFNLRG artigiani richiesta estratto conto"),
	fe("fe-ok-piva-prefix", feAF, "studio@bianchi.it", "P.IVA IT01234560371 - commercianti - cessazione attività"),
	fe("fe-ok-reply-prefix", feGC, "studio@bianchi.it", "R: I: cod. fisc. rssmra85t10a562s / artigiani / sollecito risposta"),
	fe("fe-ok-typographic", feAF, "studio@bianchi.it", "«Artigiani» — RSSMRA85T10A562S — richiesta di rateazione già concessa"),
	fe("fe-missing-cf", feGC, "studio@bianchi.it", "Artigiani - richiesta estratto conto contributivo"),
	fe("fe-invalid-cf", feGC, "studio@bianchi.it", "RSSMRA85T10A562T - Artigiani - richiesta sgravio avviso 2025"),
	fe("fe-invalid-piva", feAF, "studio@bianchi.it", "01234567897 commercianti richiesta rimborso"),
	fe("fe-missing-gestione", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - richiesta sgravio avviso 2025"),
	fe("fe-missing-summary", feGC, "studio@bianchi.it", "RSSMRA85T10A562S artigiani"),
	fe("fe-missing-everything", feAF, "studio@bianchi.it", "urgente"),
	fe("fe-use-cassetto", feGC, "studio@bianchi.it", "01234560371 - aziende con dipendenti - chiarimenti nota di rettifica"),
	fe("fe-wrong-mailbox-durc", feGC, "studio@bianchi.it", "01234560371 - DURC irregolare - richiesta verifica"),
	fe("fe-durc-ok", feDURC, "studio@bianchi.it", "01234560371 DURC - richiesta chiarimenti sul preavviso di accertamento"),
	fe("fe-durc-riscontro-no-evidence", feDURC, "studio@bianchi.it", "01234560371 riscontro preavviso di accertamento DURC"),
	fe("fe-durc-riscontro-evidence", feDURC, "studio@bianchi.it", "01234560371 riscontro preavviso di accertamento DURC").with(func(c *goldenCase) {
		c.extra, c.body = withPDF, pdfBody
	}),
	fe("fe-durc-missing-cf", feDURC, "studio@bianchi.it", "riscontro preavviso di accertamento DURC"),
	fe("fe-durc-wrong-topic", feDURC, "studio@bianchi.it", "01234560371 artigiani richiesta rimborso"),
	fe("fe-normativa-ordine", feNorm, "info@odcec.fe.it", "Quesito normativo sulla contribuzione dei soci lavoratori").with(func(c *goldenCase) {
		c.extra = arOrdinePass
	}),
	fe("fe-normativa-ordine-dkim", feNorm, "info@odcec.fe.it", "Quesito normativo sulla contribuzione dei soci lavoratori").with(func(c *goldenCase) {
		c.extra = arOrdineDKIM
	}),
	fe("fe-normativa-ordine-unauthenticated", feNorm, "info@odcec.fe.it", "Quesito normativo sulla contribuzione dei soci lavoratori"),
	fe("fe-normativa-ordine-foreign-ar", feNorm, "info@odcec.fe.it", "Quesito normativo sulla contribuzione dei soci lavoratori").with(func(c *goldenCase) {
		c.extra = arForeign
	}),
	fe("fe-dmarc-fail", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025").with(func(c *goldenCase) {
		c.extra = arDMARCFail + "Reply-To: raccolta@altrove.example\r\n"
	}),
	fe("fe-reply-to-other-domain", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025").with(func(c *goldenCase) {
		c.extra = "Reply-To: raccolta@altrove.example\r\n"
	}),
	fe("fe-header-not-signature", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025").with(func(c *goldenCase) {
		c.extra = "X-Ricevuta: avvenuta-consegna\r\nX-Trasporto: errore\r\n"
	}),
	fe("fe-human-auto-submitted-no", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025").with(func(c *goldenCase) {
		c.extra = "Auto-Submitted: no (scritto da una persona)\r\n"
	}),
	fe("fe-automatic-x-autogenerated", feGC, "studio@bianchi.it", "Risposta: RSSMRA85T10A562S artigiani richiesta").with(func(c *goldenCase) {
		c.extra = "X-Autogenerated: Reply\r\n"
	}),
	fe("fe-automatic-dsn-in-mixed", feGC, "inoltro@bianchi.it", "I: Undelivered Mail Returned to Sender").with(func(c *goldenCase) {
		c.extra, c.body = withPDF, dsnInMixed
	}),
	fe("fe-received-header-saturday", feGC, "studio@bianchi.it", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025").with(func(c *goldenCase) {
		c.at, c.extra = "", "Received: from mx.inps.it by imap.inps.it; Sat, 21 Nov 2026 09:00:00 +0100\r\n"
	}),
	fe("fe-piva-office-432", feAF, "studio@bianchi.it", "12345674324 commercianti richiesta rimborso contributi"),
	fe("fe-cf-long-s", feGC, "studio@bianchi.it", "R\u017fSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"),
	fe("fe-cf-broken-by-space", feGC, "studio@bianchi.it", "RSSMRA85T10 A562S - Artigiani - richiesta sgravio avviso 2025"),
	fe("fe-cf-zero-width", feGC, "studio@bianchi.it", "RSSMRA85\u200bT10A562S - Artigiani - richiesta sgravio avviso 2025"),
	fe("fe-normativa-not-ordine", feNorm, "luca.blu@studioblu.it", "Quesito normativo sulla contribuzione dei soci lavoratori"),
	{name: "fe-automatic-auto-submitted", office: "ferrara", mailbox: feGC, at: monday, from: "paghe@example.it",
		subject: "Risposta automatica: fuori sede", extra: "Auto-Submitted: auto-replied\r\n"},
	{name: "fe-automatic-null-return-path", office: "ferrara", mailbox: feGC, at: monday, from: "paghe@example.it",
		subject: "RSSMRA85T10A562S artigiani richiesta", extra: "Return-Path: <>\r\n"},
	{name: "fe-automatic-dsn", office: "ferrara", mailbox: feAF, at: monday, from: "mailer@example.it",
		subject: "Undelivered Mail Returned to Sender", extra: "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n"},
	{name: "fe-automatic-list", office: "ferrara", mailbox: feGC, at: monday, from: "news@example.it",
		subject: "Newsletter fiscale di novembre", extra: "List-Id: <news.example.it>\r\nPrecedence: list\r\n"},
	fe("fe-automatic-mailer-daemon", feGC, "MAILER-DAEMON@mx.example.it", "Delivery Status Notification (Failure)"),
	{name: "fe-holiday-due", office: "ferrara", mailbox: feGC, at: "2026-12-23T17:00:00+01:00", from: "studio@bianchi.it",
		subject: "RSSMRA85T10A562S - Artigiani - richiesta prima di Natale"},
	fe("fe-pec-plain-mail", fePEC, "studio.rossi@pec.commercialisti.it", "01234560371 aziende con dipendenti istanza di rimborso"),
	fePEC1("fe-pec-certified", "01234560371 aziende con dipendenti - istanza di intervento sostitutivo", pectest.Message{}),
	fePEC1("fe-pec-certified-no-fields", "istanza di regolarità contributiva libero professionista", pectest.Message{}),
	fePEC1("fe-pec-tampered", "01234560371 - istanza di rimborso", pectest.Message{Tamper: true}),
	fePEC1("fe-pec-lookalike", "01234560371 - istanza di rimborso", pectest.Message{NoSig: true}),
	func() goldenCase {
		c := fePEC1("fe-pec-untrusted", "01234560371 - istanza di rimborso", pectest.Message{})
		c.otherCA = true
		return c
	}(),
	fePEC1("fe-pec-telematic-only", "01234560371 - domanda di dilazione e riduzione sanzioni civili", pectest.Message{}),
	fePEC1("fe-pec-receipt-accettazione", "istanza", pectest.Message{Kind: "accettazione"}),
	fePEC1("fe-pec-receipt-avvenuta-consegna", "istanza", pectest.Message{Kind: "avvenuta-consegna"}),
	fePEC1("fe-pec-receipt-errore-consegna", "istanza", pectest.Message{Kind: "errore-consegna"}),
	fePEC1("fe-pec-receipt-presa-in-carico", "istanza", pectest.Message{Kind: "presa-in-carico"}),
	fePEC1("fe-pec-receipt-non-accettazione", "istanza", pectest.Message{Kind: "non-accettazione"}),
	fePEC1("fe-pec-receipt-preavviso-errore-consegna", "istanza", pectest.Message{Kind: "preavviso-errore-consegna"}),
	fePEC1("fe-pec-receipt-rilevazione-virus", "istanza", pectest.Message{Kind: "rilevazione-virus"}),
	fePEC1("fe-pec-anomalia", "01234560371 aziende con dipendenti istanza di rimborso", pectest.Message{Kind: "errore"}),
	fePEC1("fe-pec-anomalia-relabelled", "01234560371 aziende con dipendenti istanza di rimborso",
		pectest.Message{Kind: "errore", OuterKind: "posta-certificata"}),
	fePEC1("fe-pec-anomalia-automatic", "Risposta automatica: fuori ufficio",
		pectest.Message{Kind: "errore", InnerExtra: "Auto-Submitted: auto-replied\r\n"}),
	fePEC1("fe-pec-receipt-relabelled", "istanza", pectest.Message{Kind: "avvenuta-consegna", OuterKind: "posta-certificata"}),
	fePEC1("fe-pec-extra-outer-headers", "01234560371 aziende con dipendenti - istanza di intervento sostitutivo",
		pectest.Message{OuterExtra: "X-Ricevuta: errore-consegna\r\nX-Trasporto: errore\r\n"}),
	fePEC1("fe-pec-other-recipient", "01234560371 aziende con dipendenti - istanza di intervento sostitutivo",
		pectest.Message{Recipients: []string{"direzione.provinciale.bologna@postacert.inps.gov.it"}}),
	fePEC1("fe-pec-receipt-header-only", "istanza", pectest.Message{Kind: "accettazione", NoSig: true}),
	fePEC1("fe-gc-anomalia", "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025", pectest.Message{Kind: "errore"}).with(func(c *goldenCase) {
		c.mailbox, c.pec.To = feGC, feGC
	}),
	mi("mi-ok-institutional", "Direzione.milanonord@inps.it", "impresa@edilrossi.it", "01234560371 - artigiani - verifica versamenti F24"),
	mi("mi-durc-ok", "preavvisodiaccertamento.legnano@inps.it", "impresa@edilrossi.it", "DURC 01234560371 riscontro al preavviso con quietanze").with(
		func(c *goldenCase) { c.extra, c.body = withPDF, pdfBody }),
	mi("mi-durc-riscontro-no-evidence", "preavvisodiaccertamento.legnano@inps.it", "impresa@edilrossi.it", "DURC 01234560371 riscontro al preavviso"),
	mi("mi-durc-wrong-topic", "preavvisodiaccertamento.legnano@inps.it", "impresa@edilrossi.it", "01234560371 artigiani richiesta rimborso"),
	mi("mi-institutional-durc", "Direzione.milanosud@inps.it", "impresa@edilrossi.it", "01234560371 - DURC negativo - richiesta chiarimenti"),
	mi("mi-use-cassetto", "Direzione.milano@inps.it", "impresa@edilrossi.it", "01234560371 - aziende con dipendenti - nota di rettifica"),
	{name: "mi-santambrogio-due", office: "milano", mailbox: "Direzione.milanoest@inps.it", at: "2026-12-04T09:00:00+01:00",
		from: "impresa@edilrossi.it", subject: "RSSMRA85T10A562S - commercianti - variazione sede"},
	func() goldenCase {
		c := fePEC1("mi-pec-certified", "01234560371 - edilizia - istanza di intervento sostitutivo", pectest.Message{})
		c.office, c.mailbox = "milano", "direzione.agenziacomplexa.milanocentro@postacert.inps.gov.it"
		c.pec.To = c.mailbox
		return c
	}(),
}

// plainMail renders a plain-mail case.
func (c goldenCase) plainMail() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 16 Nov 2026 10:00:00 +0100\r\nMessage-ID: <%s@golden.test>\r\nMIME-Version: 1.0\r\n",
		c.from, c.mailbox, c.subject, c.name)
	b.WriteString(c.extra)
	if c.body != "" {
		b.WriteString("\r\n" + c.body)
		return []byte(b.String())
	}
	if !strings.Contains(c.extra, "Content-Type:") {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\nTesto della mail.\r\n")
		return []byte(b.String())
	}
	b.WriteString("\r\n--x\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--x--\r\n")
	return []byte(b.String())
}
