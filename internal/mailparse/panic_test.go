package mailparse

import (
	"testing"

	"gatewayd/internal/panics"
)

// panicReader panics on its first read, as a parser bug would.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("boom") }

// TestInspect_panicCounted: a panic while parsing quarantines the message
// as parser-failure and is counted as a recovered panic, for the metric.
func TestInspect_panicCounted(t *testing.T) {
	before := panics.ByComponent()["mailparse"]
	_, p := Inspect(panicReader{})
	if p == nil || p.Reason != ReasonParserFailure {
		t.Fatalf("problem = %v, want %s", p, ReasonParserFailure)
	}
	if got := panics.ByComponent()["mailparse"]; got != before+1 {
		t.Fatalf("mailparse panics counted = %d, want %d", got, before+1)
	}
}
