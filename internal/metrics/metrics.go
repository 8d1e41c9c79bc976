// Package metrics exposes the daemon's figures to Prometheus
// (github.com/prometheus/client_golang): counters of what this process
// decided, and at each scrape the store's backlog and the mailboxes'
// health. Names start gatewayd_; labels are mailbox names, outcomes,
// reason codes, states and levels — never an address.
package metrics

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"gatewayd/internal/health"
	"gatewayd/internal/store"
)

// Figures is what the metrics read of the store at each scrape.
type Figures interface {
	Stats(ctx context.Context) (store.Stats, error)
}

// Metrics are the daemon's collectors on their own registry.
type Metrics struct {
	Registry  *prometheus.Registry
	messages  *prometheus.CounterVec
	protocols *prometheus.CounterVec
}

// New registers the collectors: the process's own, the build's, the
// counters the daemon feeds (Observe) and the store's and the board's
// figures read at each scrape. panics reads the recovered-panic count.
func New(figures Figures, board *health.Board, now func() time.Time, panics func() float64, log *slog.Logger) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatewayd_messages_total",
			Help: "Messages recorded by this process, by mailbox, outcome and first reason."}, []string{"mailbox", "outcome", "reason"}),
		protocols: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatewayd_protocol_numbers_total",
			Help: "Protocol numbers given by this process, by mailbox."}, []string{"mailbox"}),
	}
	version, revision := buildInfo()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gatewayd_build_info", Help: "The running build (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()}})
	build.Set(1)
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.messages, m.protocols, &scrape{figures: figures, board: board, now: now, panics: panics, log: log})
	return m
}

// Observe counts one message recorded (not one seen again).
func (m *Metrics) Observe(mailbox string, r store.Result) {
	if m == nil || r.SeenAgain {
		return
	}
	reason := ""
	if len(r.Reasons) > 0 {
		reason = r.Reasons[0]
	}
	m.messages.WithLabelValues(mailbox, string(r.Outcome), reason).Inc()
	if r.Protocol != "" && !store.IsShadowLabel(r.Protocol) {
		m.protocols.WithLabelValues(mailbox).Inc()
	}
}

func buildInfo() (string, string) {
	version, revision := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return version, revision
}
