package register

import "gatewayd/internal/backoff"

// SetRetryForTest paces the producer's retries for a test; the returned
// function puts the pace back.
func SetRetryForTest(b backoff.Backoff) func() {
	old := handoverRetry
	handoverRetry = b
	return func() { handoverRetry = old }
}
