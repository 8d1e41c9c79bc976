package outbox

import (
	"context"
	"fmt"

	"github.com/emersion/go-sasl"

	"gatewayd/internal/config"
)

// Probe connects to an account as send does (TLS as configured, AUTH only
// over TLS), logs in and quits without sending (gatewayd check --connect).
// It reports whether the conversation was encrypted.
func Probe(ctx context.Context, acct *config.SMTP) (encrypted bool, err error) {
	c, err := dialSMTP(ctx, acct)
	if err != nil {
		return false, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() { stop(); c.Close() }()
	_, encrypted = c.TLSConnectionState()
	if acct.User != "" {
		if !encrypted {
			return false, fmt.Errorf("refusing AUTH without TLS to %s", acct.Address())
		}
		if err := c.Auth(sasl.NewPlainClient("", acct.User, acct.Password)); err != nil {
			return encrypted, fmt.Errorf("auth as %s: %w", acct.User, err)
		}
	}
	if err := c.Quit(); err != nil {
		return encrypted, fmt.Errorf("QUIT: %w", err)
	}
	return encrypted, nil
}
