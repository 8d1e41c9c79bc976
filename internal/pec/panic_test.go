package pec

import (
	"testing"

	"gatewayd/internal/panics"
)

// panicReaderAt panics when read, as a parser bug would.
type panicReaderAt struct{}

func (panicReaderAt) ReadAt([]byte, int64) (int, error) { panic("boom") }

// TestCheck_panicCounted: a panic in the PEC parser makes an unsigned
// look-alike and is counted as a recovered panic, for the metric.
func TestCheck_panicCounted(t *testing.T) {
	before := panics.ByComponent()["pec"]
	e := NewVerifier(nil, false).Check(panicReaderAt{}, 100)
	if e.Outcome != Unsigned {
		t.Fatalf("outcome = %v, want %v", e.Outcome, Unsigned)
	}
	if got := panics.ByComponent()["pec"]; got != before+1 {
		t.Fatalf("pec panics counted = %d, want %d", got, before+1)
	}
}
