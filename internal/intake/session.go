package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/clock"
	"gatewayd/internal/imapconn"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// session is one connection's life: login, folders, select, then sync and
// wait (IDLE or poll) until something fails or ctx ends.
type session struct {
	w       *Watcher
	log     *slog.Logger
	c       *imapclient.Client
	wake    chan struct{}
	folder  store.Folder // the watched folder under its current UIDVALIDITY
	folders map[triage.Outcome]string
}

func (s *session) run(ctx context.Context) error {
	s.wake = make(chan struct{}, 1)
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Only a non-blocking send: the handler runs on the reader goroutine.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					s.poke()
				}
			},
		},
	}
	c, err := imapconn.Dial(ctx, s.w.Mailbox.IMAP, opts)
	if err != nil {
		return err
	}
	s.c = c
	defer c.Close()
	if err := s.prepareFolders(); err != nil {
		return err
	}
	s.log.Info("mailbox connected", "folder", s.w.Mailbox.Folder, "idle", s.useIdle())
	for {
		s.w.Heart.Beat()
		// SELECT again each round: a folder deleted and created anew under
		// the session (a new UIDVALIDITY) is noticed by no other means.
		if err := s.selectFolder(ctx); err != nil {
			return err
		}
		if err := s.sync(ctx); err != nil {
			return err
		}
		if err := s.w.Store.RecordSuccess(ctx, s.w.Mailbox.Name); err != nil {
			return err
		}
		s.w.Health.Synced(s.w.Mailbox.Name)
		if err := s.waitForMail(ctx); err != nil {
			return err
		}
	}
}

func (s *session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// prepareFolders resolves the outcome folders with the server's hierarchy
// delimiter and creates those missing.
func (s *session) prepareFolders() error {
	delim, err := s.delimiter()
	if err != nil {
		return err
	}
	f := s.w.Mailbox.Folders
	s.folders = map[triage.Outcome]string{
		triage.Accepted: f.Accepted, triage.Refused: f.Refused,
		triage.Ignored: f.Ignored, triage.Quarantined: f.Quarantine,
	}
	for o, name := range s.folders {
		if delim != 0 && delim != '/' {
			name = strings.ReplaceAll(name, "/", string(delim))
		}
		s.folders[o] = name
		if s.w.Shadow { // shadow mode changes nothing on the server
			continue
		}
		if err := s.ensureFolder(name); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) delimiter() (rune, error) {
	list, err := s.c.List("", "", nil).Collect()
	if err != nil {
		return 0, fmt.Errorf("listing hierarchy delimiter: %w", err)
	}
	if len(list) == 0 {
		return '/', nil
	}
	return list[0].Delim, nil
}

func (s *session) ensureFolder(name string) error {
	list, err := s.c.List("", name, nil).Collect()
	if err != nil {
		return fmt.Errorf("listing folder %q: %w", name, err)
	}
	if len(list) > 0 {
		return nil
	}
	err = s.c.Create(name, nil).Wait()
	var ierr *imap.Error
	if errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeAlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating folder %q: %w", name, err)
	}
	s.log.Info("created folder", "folder", name)
	return nil
}

// selectFolder selects the watched folder and reconciles its UIDVALIDITY
// with the stored one.
func (s *session) selectFolder(ctx context.Context) error {
	// Shadow mode EXAMINEs: read-only, no flag can change.
	data, err := s.c.Select(s.w.Mailbox.Folder, &imap.SelectOptions{ReadOnly: s.w.Shadow}).Wait()
	if err != nil {
		return fmt.Errorf("selecting %q: %w", s.w.Mailbox.Folder, err)
	}
	if s.folder.UIDValidity != data.UIDValidity {
		s.log.Debug("folder selected", "uidvalidity", data.UIDValidity, "messages", data.NumMessages)
	}
	s.folder = store.Folder{Name: s.w.Mailbox.Folder, UIDValidity: data.UIDValidity}
	changed, err := s.w.Store.SetFolder(ctx, s.w.Mailbox.Name, s.folder, uint32(data.UIDNext))
	if err != nil {
		return err
	}
	if changed {
		s.log.Warn("folder, UIDVALIDITY or UIDNEXT changed: reading the folder again from its first message; known messages are recognised, not protocolled again",
			"folder", s.folder.Name, "uidvalidity", data.UIDValidity)
	}
	dropped, err := s.w.Store.DropPendingMoves(ctx, s.w.Mailbox.Name, s.folder)
	if dropped > 0 {
		s.log.Warn("moves left pending under a previous folder or UIDVALIDITY dropped (event move-dropped): the messages stay recorded; "+
			"seen again they are recognised and moved", "count", dropped)
	}
	return err
}

func (s *session) useIdle() bool {
	return s.w.Mailbox.UseIdle() && s.c.Caps().Has(imap.CapIdle)
}

// waitForMail returns when new mail may be there: after an IDLE
// notification, or the poll interval.
func (s *session) waitForMail(ctx context.Context) error {
	interval := s.w.Mailbox.PollInterval
	s.w.Heart.Wait(interval)
	if !s.useIdle() {
		if !clock.Sleep(ctx, interval) {
			return ctx.Err()
		}
		return nil
	}
	idle, err := s.c.Idle()
	if err != nil {
		return fmt.Errorf("starting IDLE: %w", err)
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-s.wake:
	case <-t.C:
	case <-ctx.Done():
	case <-s.c.Closed():
	}
	if err := idle.Close(); err != nil {
		return fmt.Errorf("stopping IDLE: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("IDLE: %w", err)
	}
	return ctx.Err()
}
