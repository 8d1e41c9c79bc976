package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/store"
)

// Server serves /healthz and, beside it, /metrics.
type Server struct {
	Board      *Board
	Stats      func(ctx context.Context) (store.Stats, error)
	Metrics    http.Handler
	StaleAfter time.Duration // a mailbox not synced for longer is unhealthy
	// Late says which produced days' handover is overdue.
	Late func(pending []store.RegisterDay, now time.Time) []store.RegisterDay
	Now  func() time.Time
	Log  *slog.Logger
}

// Report is /healthz's body.
type Report struct {
	Status    string    `json:"status"` // ok, unhealthy
	Problems  []string  `json:"problems"`
	Mailboxes []Mailbox `json:"mailboxes"`
	Outbox    struct {
		Queued        int     `json:"queued"`
		Held          int     `json:"held"`
		Failed        int     `json:"failed"`
		OldestQueuedS float64 `json:"oldest_queued_seconds"`
	} `json:"outbox"`
	Register struct {
		Pending int      `json:"pending_handover"`
		Late    []string `json:"late_handover"`
	} `json:"register"`
}

// Check builds the report: unhealthy when a mailbox has not synced for
// longer than StaleAfter (since start, when it never did), when the store
// cannot be read, or when a daily register's handover is overdue.
func (s *Server) Check(ctx context.Context) Report {
	now := s.Now()
	r := Report{Status: "ok", Problems: []string{}, Mailboxes: s.Board.Mailboxes()}
	for _, m := range r.Mailboxes {
		if age := m.SyncAge(now); age > s.StaleAfter {
			msg := fmt.Sprintf("mailbox %s: not synced for %s (limit %s)", m.Name, age.Round(time.Second), s.StaleAfter)
			if m.LastError != "" {
				msg += ": " + m.LastError
			}
			r.Problems = append(r.Problems, msg)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		r.Problems = append(r.Problems, "store: "+err.Error())
	} else {
		r.Outbox.Queued, r.Outbox.Held, r.Outbox.Failed = st.Outbox[store.OutQueued], st.Outbox[store.OutHeld], st.Outbox[store.OutFailed]
		r.Outbox.OldestQueuedS = st.OldestQueuedAge(now).Seconds()
		r.Register.Pending, r.Register.Late = len(st.Pending), []string{}
		// The producer writes a day's register just after midnight; an hour
		// on, a day still missing is late (the producer's log says why).
		if d := st.NextToProduce; !d.IsZero() && now.Sub(d.AddDate(0, 0, 1)) > time.Hour {
			r.Problems = append(r.Problems, fmt.Sprintf("register %s: not produced", d.Format(time.DateOnly)))
		}
		if s.Late != nil {
			for _, d := range s.Late(st.Pending, now) {
				day := d.Day.Format(time.DateOnly)
				r.Register.Late = append(r.Register.Late, day)
				r.Problems = append(r.Problems, fmt.Sprintf("register %s: not handed over to conservation by the next working day (%d attempts: %s)",
					day, d.Attempts, d.LastError))
			}
		}
	}
	if len(r.Problems) > 0 {
		r.Status = "unhealthy"
	}
	return r
}

// Handler serves /healthz (200 or 503, JSON) and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, req *http.Request) {
		rep := s.Check(req.Context())
		w.Header().Set("Content-Type", "application/json")
		if rep.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	})
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	return mux
}

// Run listens on addr and serves until ctx ends. A failure to listen (the
// port taken) is logged and retried every 30 s: the daemon's work does
// not depend on it. ready, if not nil, receives the address listened on.
func (s *Server) Run(ctx context.Context, addr string, ready func(net.Addr)) {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	for ctx.Err() == nil {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.Log.Error("http: cannot listen, will retry in 30s (metrics and health are down, the mail is not)", "addr", addr, "err", err)
			if !clock.Sleep(ctx, 30*time.Second) {
				return
			}
			continue
		}
		s.Log.Info("http: serving /metrics and /healthz", "addr", ln.Addr().String())
		if ready != nil {
			ready(ln.Addr())
		}
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Log.Error("http: server failed, will retry in 30s", "err", err)
			clock.Sleep(ctx, 30*time.Second)
		}
	}
}
