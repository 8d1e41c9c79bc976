// Package imapconn dials an IMAP server as the configuration says
// (implicit TLS, STARTTLS, or plain on loopback), logs in, and ties the
// connection to a context: go-imap v2 takes none, so the connection is
// closed when the context ends, which interrupts any blocking call. Intake
// and the Sent-folder watcher both use it.
package imapconn

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/config"
)

// Dial connects and logs in. The connection is closed when ctx ends: that
// is how a blocking go-imap call (which takes no context) is interrupted.
func Dial(ctx context.Context, cfg config.Server, opts *imapclient.Options) (*imapclient.Client, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: time.Minute}
	tcfg := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	var (
		c   *imapclient.Client
		err error
	)
	switch cfg.TLS {
	case config.TLSImplicit:
		td := &tls.Dialer{NetDialer: d, Config: tcfg}
		conn, derr := td.DialContext(ctx, "tcp", cfg.Address())
		if derr != nil {
			return nil, fmt.Errorf("connecting to %s: %w", cfg.Address(), derr)
		}
		c = imapclient.New(conn, opts)
	case config.TLSStartTLS:
		conn, derr := d.DialContext(ctx, "tcp", cfg.Address())
		if derr != nil {
			return nil, fmt.Errorf("connecting to %s: %w", cfg.Address(), derr)
		}
		o := *opts
		o.TLSConfig = tcfg
		if c, err = imapclient.NewStartTLS(conn, &o); err != nil {
			conn.Close()
			return nil, fmt.Errorf("starttls with %s: %w", cfg.Address(), err)
		}
	default: // plain, allowed on loopback only by config validation
		conn, derr := d.DialContext(ctx, "tcp", cfg.Address())
		if derr != nil {
			return nil, fmt.Errorf("connecting to %s: %w", cfg.Address(), derr)
		}
		c = imapclient.New(conn, opts)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	if err := c.WaitGreeting(); err != nil {
		stop()
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %w", cfg.Address(), err)
	}
	if err := c.Login(cfg.User, cfg.Password).Wait(); err != nil {
		stop()
		c.Close()
		return nil, fmt.Errorf("login as %s: %w", cfg.User, err)
	}
	return c, nil
}
