package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// mixFolder holds the mix as loaded; each measurement reads its own copy.
const mixFolder = "mix"

// load appends the mix to mixFolder, generating each message just before
// its APPEND so the bench holds one message at a time.
func load(c *imapclient.Client, n, bigMB int) (int, int64, error) {
	if err := c.Create(mixFolder, nil).Wait(); err != nil {
		return 0, 0, fmt.Errorf("creating %q: %w", mixFolder, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var bytes int64
	total := n
	for i := 0; i < n; i++ {
		var size int
		switch p := r.IntN(100); {
		case p < 80:
			size = 2_000 + r.IntN(48_000)
		case p < 98:
			size = 100_000 + r.IntN(900_000)
		default:
			size = 5_000_000 + r.IntN(5_000_000)
		}
		m := message(r, i, size)
		bytes += int64(len(m))
		if err := appendMsg(c, m); err != nil {
			return 0, 0, err
		}
	}
	if bigMB > 0 {
		m := message(r, n, bigMB*1_000_000)
		bytes += int64(len(m))
		if err := appendMsg(c, m); err != nil {
			return 0, 0, err
		}
		total++
	}
	return total, bytes, nil
}

// message builds a mail of about size bytes: text under 60 KB, otherwise a
// short text part and a base64 attachment of random bytes.
func message(r *rand.Rand, i, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Studio %d <studio%d@example.it>\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
		"Subject: RSSMRA85T10A562S - artigiani - richiesta %d\r\nDate: Mon, 16 Nov 2026 09:00:00 +0100\r\n"+
		"Message-ID: <bench-%d@example.it>\r\nMIME-Version: 1.0\r\n", i, i, i, i)
	text := "Gentili colleghi, si chiede cortesemente la verifica della posizione contributiva indicata in oggetto.\r\n"
	if size < 60_000 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
		for b.Len() < size {
			b.WriteString(text)
		}
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(text)
	b.WriteString("--b\r\nContent-Type: application/pdf; name=\"allegato.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, 57)
	for b.Len() < size {
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		b.WriteString(base64.StdEncoding.EncodeToString(raw))
		b.WriteString("\r\n")
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

func appendMsg(c *imapclient.Client, m []byte) error {
	cmd := c.Append(mixFolder, int64(len(m)), nil)
	if _, err := cmd.Write(m); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// copyMix gives a measurement its own copy of the mix in folder (created
// anew unless it is INBOX, which must be empty) and returns its UIDs in
// order. Dovecot hard-links the maildir files: the copy is quick and holds
// the same bytes in the same order.
func copyMix(c *imapclient.Client, folder string, total int) ([]imap.UID, error) {
	if folder != "INBOX" {
		dropFolders(c, folder)
		if err := c.Create(folder, nil).Wait(); err != nil {
			return nil, fmt.Errorf("creating %q: %w", folder, err)
		}
	}
	if _, err := c.Select(mixFolder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return nil, fmt.Errorf("selecting %q: %w", mixFolder, err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	data, err := c.Copy(all, folder).Wait()
	if err != nil {
		return nil, fmt.Errorf("copying the mix to %q: %w", folder, err)
	}
	if err := c.Unselect().Wait(); err != nil {
		return nil, err
	}
	uids, ok := data.DestUIDs.Nums()
	if !ok || len(uids) != total {
		return nil, fmt.Errorf("copying the mix to %q: COPYUID names %v, want %d messages", folder, data.DestUIDs, total)
	}
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("counting %q: %w", folder, err)
	}
	if int(*st.NumMessages) != total {
		return nil, fmt.Errorf("%q holds %d messages after the copy, want %d", folder, *st.NumMessages, total)
	}
	return uids, nil
}

// dropFolders deletes folders that may exist, children first.
func dropFolders(c *imapclient.Client, folders ...string) {
	for _, f := range folders {
		c.Delete(f).Wait() // NONEXISTENT is fine
	}
}
