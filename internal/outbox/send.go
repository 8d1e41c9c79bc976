package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"gatewayd/internal/config"
	"gatewayd/internal/store"
)

// send submits one answer through the account: TLS as configured, AUTH
// only over TLS, short command timeouts. ctx ends a stuck conversation by
// closing the connection. Once the server has accepted the data, send
// returns a quit func that ends the session: call it after recording the
// answer as sent, so that the window in which a crash makes a resend is
// as short as the record itself.
func send(ctx context.Context, acct *config.SMTP, it store.OutboxItem) (quit func(), err error) {
	c, err := dialSMTP(ctx, acct)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		if err != nil {
			stop()
			c.Close()
		}
	}()
	if acct.User != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return nil, fmt.Errorf("refusing AUTH without TLS to %s", acct.Address())
		}
		if err := c.Auth(sasl.NewPlainClient("", acct.User, acct.Password)); err != nil {
			return nil, fmt.Errorf("auth as %s: %w", acct.User, err)
		}
	}
	if err := c.Mail(acct.From, nil); err != nil {
		return nil, fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, rcpt := range it.Recipients() {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return nil, fmt.Errorf("RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	if _, err := bytes.NewReader(it.Raw).WriteTo(w); err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	return func() { c.Quit(); stop(); c.Close() }, nil
}

func dialSMTP(ctx context.Context, acct *config.SMTP) (*smtp.Client, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	tcfg := &tls.Config{ServerName: acct.Host, MinVersion: tls.VersionTLS12, RootCAs: acct.RootCAs}
	var conn net.Conn
	var err error
	if acct.TLS == config.TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tcfg}).DialContext(ctx, "tcp", acct.Address())
	} else {
		conn, err = d.DialContext(ctx, "tcp", acct.Address())
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", acct.Address(), err)
	}
	if acct.TLS == config.TLSStartTLS {
		conn.SetDeadline(time.Now().Add(time.Minute)) // greeting, EHLO and the TLS handshake
		c, err := smtp.NewClientStartTLS(conn, tcfg)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", acct.Address(), err)
		}
		c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 2*time.Minute
		return c, nil
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 2*time.Minute
	if err := c.Hello(localName()); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO to %s: %w", acct.Address(), err)
	}
	return c, nil
}

func localName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
