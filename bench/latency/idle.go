package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/testenv"
)

// idleDelay measures what Dovecot alone adds: a minimal client IDLEs on a
// folder of its own while n mails are APPENDed to it one at a time, each
// after the last was announced and a pause, and it returns, in
// milliseconds, how long after each APPEND completed the EXISTS came.
func idleDelay(addr string, c *imapclient.Client, n int) ([]float64, error) {
	const folder = "idle-reference"
	if err := c.Create(folder, nil).Wait(); err != nil {
		return nil, fmt.Errorf("creating %q: %w", folder, err)
	}
	exists := make(chan time.Time, 16)
	w, err := imapclient.DialInsecure(addr, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case exists <- time.Now():
				default:
				}
			}
		},
	}})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.Login(user, password).Wait(); err != nil {
		return nil, err
	}
	if _, err := w.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return nil, err
	}
	idle, err := w.Idle()
	if err != nil {
		return nil, fmt.Errorf("starting IDLE: %w", err)
	}
	defer idle.Close()
	var out []float64
	for i := 0; i < n; i++ {
		if err := appendTo(c, folder, testenv.Message(fmt.Sprintf("idle-%d", i), 3000)); err != nil {
			return nil, err
		}
		done := time.Now()
		select {
		case t := <-exists:
			out = append(out, max(ms(t.Sub(done)), 0))
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("no EXISTS in IDLE 10 s after an APPEND")
		}
		time.Sleep(700 * time.Millisecond) // the next one starts a notification of its own
	}
	slices.Sort(out)
	return out, nil
}
