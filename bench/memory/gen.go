package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"gatewayd/internal/pec/pectest"
)

// The files the generator writes into its directory.
const (
	rootFile      = "pec-root.pem"
	validFile     = "pec-valid.eml"     // (a) validly signed transport envelope
	lookalikeFile = "pec-lookalike.eml" // (b) PEC headers, multipart/signed, garbage signature
	tamperedFile  = "pec-tampered.eml"  // (c) a real signature over content changed after signing
	secondFile    = "pec-valid-2.eml"   // another valid one, for the fourth mailbox of the daemon
)

// The Ferrara caselle the bench uses (rules/ferrara/caselle.yaml).
const (
	addrPEC        = "direzione.provinciale.ferrara@postacert.inps.gov.it" // tipo: pec
	addrCredito    = "GestioneCredito.Ferrara@inps.it"                     // istituzionale
	addrAnagrafica = "AnagraficaFlussi.Ferrara@inps.it"                    // istituzionale
	addrDURC       = "preavvisodiaccertamento.ferrara@inps.it"             // durc
)

const pecSubject = "RSSMRA85T10A562S - artigiani - richiesta di sgravio dell'avviso"

// generate writes the CA root and the envelopes of about mb MB (10^6
// bytes) each into dir. It runs in a child process of the bench (see
// main), so that the bench's own peak RSS stays small: a child's rusage
// ru_maxrss starts from its parent's peak, inherited across the fork.
func generate(dir string, mb int) error {
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	if err := os.WriteFile(filepath.Join(dir, rootFile), ca.RootPEM(), 0o644); err != nil {
		return err
	}
	// pectest puts the body twice in the signed part (the provider's text
	// part and postacert.eml), so each copy is half the target.
	body := bodyText(max(mb*1_000_000-8_000, 2*78)/2, 1)
	date := time.Date(2026, 11, 23, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	msg := func(id, to string) pectest.Message {
		return pectest.Message{Kind: "posta-certificata", Sender: "studio.bianchi@pec.test.it", To: to,
			Subject: pecSubject, Body: body, MessageID: id, Date: date}
	}
	write := func(name string, m []byte) error {
		err := os.WriteFile(filepath.Join(dir, name), m, 0o644)
		debug.FreeOSMemory()
		return err
	}
	if err := write(validFile, ca.Envelope(msg("bench-valid@pec.test.it", addrPEC))); err != nil {
		return err
	}
	env := ca.Envelope(msg("bench-lookalike@pec.test.it", addrPEC))
	if err := garbleSignature(env); err != nil {
		return err
	}
	if err := write(lookalikeFile, env); err != nil {
		return err
	}
	env = nil
	m := msg("bench-tampered@pec.test.it", addrPEC)
	m.Tamper = true
	if err := write(tamperedFile, ca.Envelope(m)); err != nil {
		return err
	}
	return write(secondFile, ca.Envelope(msg("bench-valid-2@pec.test.it", addrAnagrafica)))
}

// bodyText returns about n bytes of base64-looking lines of 76 characters,
// CRLF between them.
func bodyText(n int, seed uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	r := rand.New(rand.NewPCG(seed, 2))
	lines := max(n/78, 1)
	b := make([]byte, 0, lines*78)
	for i := 0; i < lines; i++ {
		if i > 0 {
			b = append(b, '\r', '\n')
		}
		for j := 0; j < 76; j++ {
			b = append(b, alphabet[r.IntN(64)])
		}
	}
	return string(b)
}

// garbleSignature overwrites the base64 of the smime.p7s part with random
// base64 of the same length: the envelope keeps its PEC headers and its
// multipart/signed structure, but the signature is not PKCS #7.
func garbleSignature(env []byte) error {
	marker := []byte("filename=\"smime.p7s\"\r\n\r\n")
	i := bytes.LastIndex(env, marker)
	if i < 0 {
		return errors.New("generator: no smime.p7s part in the envelope")
	}
	start := i + len(marker)
	end := bytes.Index(env[start:], []byte("\r\n--signed-b--"))
	if end < 0 {
		return errors.New("generator: no closing delimiter after the signature")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	r := rand.New(rand.NewPCG(3, 4))
	for k := start; k < start+end; k++ {
		if c := env[k]; c != '\r' && c != '\n' && c != '=' {
			env[k] = alphabet[r.IntN(64)]
		}
	}
	return nil
}

// runGenerator is the child's entry point.
func runGenerator(dir string, mb int) {
	if err := generate(dir, mb); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		os.Exit(1)
	}
}
