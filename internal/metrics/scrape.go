package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gatewayd/internal/health"
	"gatewayd/internal/store"
)

var (
	descOutbox       = prometheus.NewDesc("gatewayd_outbox_mails", "Mails in the outbox by state (queued, held, sent, failed, suppressed).", []string{"state"}, nil)
	descOldest       = prometheus.NewDesc("gatewayd_outbox_oldest_queued_seconds", "Age of the oldest queued mail (0: none).", nil, nil)
	descUndelivered  = prometheus.NewDesc("gatewayd_outbox_undelivered_mails", "Answers a signed PEC receipt says were not delivered.", nil, nil)
	descCases        = prometheus.NewDesc("gatewayd_cases", "Cases by state (open, overdue, waiting, answered, closed).", []string{"state"}, nil)
	descSteps        = prometheus.NewDesc("gatewayd_deadline_mails_total", "Deadline mails taken (solleciti, escalations …), by ladder level.", []string{"level"}, nil)
	descDays         = prometheus.NewDesc("gatewayd_register_days_total", "Daily protocol registers produced.", nil, nil)
	descHanded       = prometheus.NewDesc("gatewayd_register_days_handed_over_total", "Daily protocol registers handed over to conservation.", nil, nil)
	descPending      = prometheus.NewDesc("gatewayd_register_handover_pending", "Daily registers produced, not yet handed over.", nil, nil)
	descConnected    = prometheus.NewDesc("gatewayd_mailbox_connected", "1 while the mailbox's session is up.", []string{"mailbox"}, nil)
	descLastSync     = prometheus.NewDesc("gatewayd_mailbox_last_sync_timestamp_seconds", "When the mailbox was last synced to its end (0: never).", []string{"mailbox"}, nil)
	descSyncLag      = prometheus.NewDesc("gatewayd_mailbox_sync_lag_seconds", "Seconds since the mailbox was last synced (since start, if never).", []string{"mailbox"}, nil)
	descReconnects   = prometheus.NewDesc("gatewayd_imap_reconnects_total", "Mailbox sessions that failed and were retried.", []string{"mailbox"}, nil)
	descPanics       = prometheus.NewDesc("gatewayd_panics_recovered_total", "Panics recovered by the daemon's loops and parsers.", nil, nil)
	descScrapeErrors = prometheus.NewDesc("gatewayd_store_scrape_ok", "1 when the store's figures could be read at this scrape.", nil, nil)
)

// scrape reads the store's and the board's figures when Prometheus asks.
type scrape struct {
	figures Figures
	board   *health.Board
	now     func() time.Time
	panics  func() float64
	log     *slog.Logger
}

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutbox, descOldest, descUndelivered, descCases, descSteps, descDays, descHanded, descPending,
		descConnected, descLastSync, descSyncLag, descReconnects, descPanics, descScrapeErrors} {
		ch <- d
	}
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	now := s.now()
	for _, m := range s.board.Mailboxes() {
		connected, last, lag := 0.0, 0.0, m.SyncAge(now).Seconds()
		if m.Connected {
			connected = 1
		}
		if !m.LastSync.IsZero() {
			last = float64(m.LastSync.Unix())
		}
		ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, connected, m.Name)
		ch <- prometheus.MustNewConstMetric(descLastSync, prometheus.GaugeValue, last, m.Name)
		ch <- prometheus.MustNewConstMetric(descSyncLag, prometheus.GaugeValue, lag, m.Name)
		ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(m.Failures), m.Name)
	}
	if s.panics != nil {
		ch <- prometheus.MustNewConstMetric(descPanics, prometheus.CounterValue, s.panics())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.figures.Stats(ctx)
	if err != nil {
		s.log.Warn("metrics: reading the store's figures failed", "err", err)
		ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, 1)
	for _, state := range []string{store.OutQueued, store.OutHeld, store.OutSent, store.OutFailed, store.OutSuppressed} {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(st.Outbox[state]), state)
	}
	oldest := st.OldestQueuedAge(now).Seconds()
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest)
	ch <- prometheus.MustNewConstMetric(descUndelivered, prometheus.GaugeValue, float64(st.Undelivered))
	for _, state := range []string{store.CaseOpen, store.CaseOverdue, store.CaseWaiting, store.CaseAnswered, store.CaseClosed} {
		ch <- prometheus.MustNewConstMetric(descCases, prometheus.GaugeValue, float64(st.Cases[state]), state)
	}
	for level, n := range st.StepsSent {
		ch <- prometheus.MustNewConstMetric(descSteps, prometheus.CounterValue, float64(n), level)
	}
	ch <- prometheus.MustNewConstMetric(descDays, prometheus.CounterValue, float64(st.RegisterDays))
	ch <- prometheus.MustNewConstMetric(descHanded, prometheus.CounterValue, float64(st.HandedOver))
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(len(st.Pending)))
}
