package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// arrival is one mail APPENDed: its Message-ID (without <>) and when the
// server confirmed it.
type arrival struct {
	id string
	at time.Time
}

// stream APPENDs n mails to INBOX, the i-th due at start + i/rate (sent at
// once when the previous APPEND ran late), and returns when each arrived.
func stream(c *imapclient.Client, tag string, n int, rate float64) ([]arrival, error) {
	r := rand.New(rand.NewPCG(3, 4))
	out := make([]arrival, 0, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		time.Sleep(time.Until(due))
		id, m := mail(r, tag, i, time.Now())
		if err := appendMail(c, m); err != nil {
			return out, fmt.Errorf("appending mail %d: %w", i, err)
		}
		out = append(out, arrival{id: id, at: time.Now()})
	}
	return out, nil
}

func appendMail(c *imapclient.Client, m []byte) error { return appendTo(c, "INBOX", m) }

func appendTo(c *imapclient.Client, folder string, m []byte) error {
	cmd := c.Append(folder, int64(len(m)), nil)
	if _, err := cmd.Write(m); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}
