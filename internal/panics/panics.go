// Package panics counts the panics gatewayd recovered from, per component
// (the metrics read them), and logs each with its stack. A recovered panic
// is a bug that did not take the daemon down: it must be seen.
package panics

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

var (
	total  atomic.Int64
	mu     sync.Mutex
	byPart = map[string]int64{}
)

// Count returns how many panics were recovered since the process started.
func Count() int64 { return total.Load() }

// ByComponent returns the count per component ("intake", "outbox", …).
func ByComponent() map[string]int64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]int64, len(byPart))
	for k, v := range byPart {
		out[k] = v
	}
	return out
}

// Recovered counts the panic v recovered in component and logs msg at
// error level with the panic and the stack (call it from the deferred
// function that recovered, so the stack shows where it happened). It
// returns an error that says what panicked. A nil log is slog.Default().
func Recovered(log *slog.Logger, component, msg string, v any, attrs ...any) error {
	total.Add(1)
	mu.Lock()
	byPart[component]++
	mu.Unlock()
	if log == nil {
		log = slog.Default()
	}
	log.Error(msg, append(attrs, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
	return fmt.Errorf("panic in %s: %v", component, v)
}
