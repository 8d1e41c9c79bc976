package panics

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestRecovered_countsAndLogsTheStack: the count rises, per component too,
// and the log line carries the panic and the stack of where it happened.
func TestRecovered_countsAndLogsTheStack(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	before, beforePart := Count(), ByComponent()["test"]
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = Recovered(log, "test", "panic in the test", v, "mailbox", "gc")
			}
		}()
		panicHere()
		return nil
	}()
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Recovered() = %v, want an error naming the panic", err)
	}
	if got := Count(); got != before+1 {
		t.Errorf("Count() = %d, want %d", got, before+1)
	}
	if got := ByComponent()["test"]; got != beforePart+1 {
		t.Errorf("ByComponent()[test] = %d, want %d", got, beforePart+1)
	}
	for _, want := range []string{"level=ERROR", "panic in the test", "mailbox=gc", "panic=boom", "panicHere"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

func panicHere() { panic("boom") }
