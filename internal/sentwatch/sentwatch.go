// Package sentwatch sees the office's replies without changing staff
// habits: it watches each mailbox's Sent folder over IMAP, read-only
// (EXAMINE and BODY.PEEK: it never moves or flags staff mail), by UID like
// intake, and links each outgoing message to its case by In-Reply-To or
// References (the original's Message-ID, or our acknowledgment's) or by
// the protocol number in the subject. A reply closes the case as answered
// at the reply's time; a request to the professional (the rules' marker in
// the subject) puts the case on the professional (D3).
package sentwatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/answer"
	"gatewayd/internal/backoff"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/imapconn"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/panics"
	"gatewayd/internal/protocol"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
)

// Store is what the Sent watcher needs of the store.
type Store interface {
	SentState(ctx context.Context, mailbox string) (f store.Folder, lastUID uint32, known bool, err error)
	SetSentState(ctx context.Context, mailbox string, f store.Folder, lastUID uint32) error
	Update(ctx context.Context, f func(ctx context.Context, tx *store.Tx) error) error
}

// Watcher owns the loop of one mailbox's Sent folder.
type Watcher struct {
	Mailbox config.Mailbox
	Store   Store
	Office  func() *answer.Office
	Log     *slog.Logger
	Backoff backoff.Backoff
	Heart   *supervise.Heart // beats while the loop is alive (nil: no watchdog)
}

// Run watches until ctx ends, reconnecting with backoff after failures.
func (w *Watcher) Run(ctx context.Context) {
	if w.Backoff == (backoff.Backoff{}) {
		w.Backoff = backoff.Backoff{Base: time.Second, Max: 5 * time.Minute}
	}
	log := w.Log.With("mailbox", w.Mailbox.Name, "component", "sent")
	for attempt := 1; ctx.Err() == nil; attempt++ {
		w.Heart.Beat()
		err := w.guarded(ctx, log)
		if ctx.Err() != nil {
			return
		}
		wait := w.Backoff.Next(attempt)
		log.Warn("Sent folder session failed, will retry", "err", err, "retry_in", wait.Round(time.Millisecond))
		w.Heart.Wait(wait)
		if !clock.Sleep(ctx, wait) {
			return
		}
	}
}

func (w *Watcher) guarded(ctx context.Context, log *slog.Logger) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panics.Recovered(log, "sent", "panic in the Sent watcher", v)
		}
	}()
	c, err := imapconn.Dial(ctx, w.Mailbox.IMAP, &imapclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	folder, err := w.folder(c)
	if err != nil {
		return err
	}
	log.Info("watching the Sent folder", "folder", folder)
	for {
		w.Heart.Beat()
		if err := w.scan(ctx, c, folder, log); err != nil {
			return err
		}
		w.Heart.Wait(w.Mailbox.PollInterval)
		if !clock.Sleep(ctx, w.Mailbox.PollInterval) {
			return nil
		}
	}
}

// folder is the configured Sent folder, or the one marked \Sent.
func (w *Watcher) folder(c *imapclient.Client) (string, error) {
	if w.Mailbox.SentFolder != "" {
		return w.Mailbox.SentFolder, nil
	}
	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		return "", fmt.Errorf("listing folders: %w", err)
	}
	for _, m := range list {
		if slices.Contains(m.Attrs, imap.MailboxAttrSent) {
			return m.Mailbox, nil
		}
	}
	return "", fmt.Errorf("no folder is marked \\Sent: name it with sent_folder (or sent_folder: none)")
}

// headerFields are what a reply is recognised by.
var headerFields = []string{"Message-Id", "In-Reply-To", "References", "Subject", "Date", "To", "Cc", "Auto-Submitted"}

// scan reads the messages added to the Sent folder since the last scan.
func (w *Watcher) scan(ctx context.Context, c *imapclient.Client, folder string, log *slog.Logger) error {
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("examining %q: %w", folder, err)
	}
	seen, last, known, err := w.Store.SentState(ctx, w.Mailbox.Name)
	if err != nil {
		return err
	}
	cur := store.Folder{Name: folder, UIDValidity: sel.UIDValidity}
	if seen.Name == "" && known { // read before the folder was recorded (migration 0006)
		seen.Name = folder
	}
	if !known || seen != cur || sel.UIDNext != 0 && uint32(sel.UIDNext) <= last {
		// First sight, another folder, or a folder made anew (or its UIDs
		// given again): what was sent before is not read again; only what
		// is sent from now on — an older UID would not say which message.
		last = max(uint32(sel.UIDNext), 1) - 1
		log.Info("Sent folder: starting after the messages already there", "folder", folder, "uidvalidity", sel.UIDValidity, "from_uid", last+1)
		return w.Store.SetSentState(ctx, w.Mailbox.Name, cur, last)
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: headerFields, Peek: true}
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return fmt.Errorf("fetching from %q: %w", folder, err)
	}
	slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	for _, m := range msgs {
		if uint32(m.UID) <= last {
			continue // UID n:* always returns the newest
		}
		read := func(ctx context.Context, tx *store.Tx) error {
			return tx.SetSentState(ctx, w.Mailbox.Name, cur, uint32(m.UID))
		}
		if err := w.sent(ctx, m.FindBodySection(section), m.InternalDate, read, log); err != nil {
			return err
		}
	}
	return nil
}

// sent links one outgoing message to its case. Only a message to the
// case's sender written by a person answers it (or, with the rules'
// marker, asks the sender for documents): the gateway's own mail (an
// acknowledgment, a sollecito filed in Sent), automatic mail and a
// forward to a colleague or to the region are recorded on the case's
// timeline and change nothing else. What cannot be done (a marker where
// the rules have no waiting ladder) is recorded too, and the watcher
// goes on: one message never blocks the folder.
//
// read records the message as read, in the same transaction.
func (w *Watcher) sent(ctx context.Context, header []byte, internal time.Time, read func(context.Context, *store.Tx) error,
	log *slog.Logger) error {
	f, problem := mailparse.InspectHeader(strings.NewReader(string(header) + "\r\n"))
	h := f.Header
	ids := append(mailparse.MessageIDs(h.Get("In-Reply-To")), mailparse.MessageIDs(h.Get("References"))...)
	protocols := protocol.FindLabels(f.Subject)
	if problem != nil || len(ids) == 0 && len(protocols) == 0 {
		return w.Store.Update(ctx, read)
	}
	at := internal // when the server filed it: the reply's time
	if at.IsZero() {
		at, _ = mail.ParseDate(f.Date)
	}
	o := w.Office()
	return w.Store.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := read(ctx, tx); err != nil {
			return err
		}
		c, ok, err := tx.FindCase(ctx, ids, protocols)
		if err != nil || !ok || !c.Open() {
			return err
		}
		why := map[string]any{"by": "Sent folder", "message_id": f.MessageID, "subject": answer.Clean(f.Subject)}
		switch own, err := tx.OwnMail(ctx, f.MessageID); {
		case err != nil:
			return err
		case own || automatic(h.Get("Auto-Submitted")):
			return nil // our own mail, or automatic: not the office's reply
		case !addressedTo(&h, c.Sender):
			return tx.CaseEvent(ctx, c, "sent-elsewhere", why) // a forward, a question to the region
		}
		if err := tx.LinkCase(ctx, f.MessageID, c.ID); err != nil {
			return err
		}
		if o != nil && o.Rules != nil && o.Rules.Deadlines != nil && marked(f.Subject, o.Rules.Deadlines.WaitMarker) {
			log.Info("request to the professional seen in Sent: the case waits", "protocol", c.Protocol)
			if err := deadlines.Wait(ctx, tx, o.Rules, c, at, why); err != nil {
				log.Warn("the case cannot wait on the professional", "protocol", c.Protocol, "err", err)
				why["error"] = err.Error()
				return tx.CaseEvent(ctx, c, "wait-impossible", why)
			}
			return nil
		}
		log.Info("reply seen in Sent: case answered", "protocol", c.Protocol)
		return tx.Close(ctx, c, store.CaseAnswered, store.OutcomeAnswered, at, why)
	})
}

// automatic reports an Auto-Submitted value other than "no".
func automatic(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v != "" && !strings.HasPrefix(v, "no")
}

// addressedTo reports whether To or Cc name addr.
func addressedTo(h interface{ Get(string) string }, addr string) bool {
	for _, k := range []string{"To", "Cc"} {
		if list, err := mail.ParseAddressList(h.Get(k)); err == nil {
			for _, a := range list {
				if strings.EqualFold(a.Address, addr) {
					return true
				}
			}
		}
	}
	return false
}

func marked(subject, marker string) bool {
	return marker != "" && strings.Contains(strings.ToUpper(subject), strings.ToUpper(marker))
}
