package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"gatewayd/internal/clock"

	"gatewayd/internal/store"
)

// outboxStore is what the outbox command needs of the store.
type outboxStore interface {
	List(ctx context.Context, state string, limit int) ([]store.OutboxItem, error)
	Get(ctx context.Context, id int64) (store.OutboxItem, error)
	Retry(ctx context.Context, id int64) error
	ReleaseHeld(ctx context.Context, match string) (int, error)
	Close() error
}

// cmdOutbox lists, shows and retries automatic answers. It works beside
// the running daemon (SQLite serialises the writes); a retried answer is
// sent at the sender's next round (within five seconds).
func cmdOutbox(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("outbox", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	usage := "usage: gatewayd outbox --config FILE list [queued|held|sent|failed|suppressed|undelivered] | show ID | retry ID | release --held [--reason TEXT]"
	if len(rest) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitBadConfig
	}
	var q outboxStore
	q, err := store.OpenOutboxTool(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd outbox:", err)
		return exitFailure
	}
	defer q.Close()
	ctx := context.Background()
	switch {
	case rest[0] == "list" && len(rest) <= 2:
		state := ""
		if len(rest) == 2 {
			state = rest[1]
		}
		switch state {
		case "", store.OutQueued, store.OutHeld, store.OutSent, store.OutFailed, store.OutSuppressed, "undelivered":
		default:
			fmt.Fprintln(stderr, usage)
			return exitBadConfig
		}
		items, err := q.List(ctx, state, 200)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd outbox:", err)
			return exitFailure
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tKIND\tABOUT\tTO\tATTEMPTS\tCREATED\tDELIVERY\tNOTE")
		for _, it := range items {
			note := it.LastError
			if note == "" {
				note = it.Reason
			}
			delivery := it.Delivery
			if it.Undelivered {
				delivery = "UNDELIVERED (" + it.Delivery + ")"
			}
			about := it.Protocol
			if about == "" {
				about = fmt.Sprintf("message %d", it.Message)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", it.ID, it.State, it.Kind, about, it.To, it.Attempts,
				it.CreatedAt.In(clock.Rome).Format("2006-01-02 15:04"), delivery, note)
		}
		tw.Flush()
		return exitOK
	case rest[0] == "release" && (len(rest) == 2 || len(rest) == 4 && rest[2] == "--reason") && rest[1] == "--held":
		match := ""
		if len(rest) == 4 {
			match = rest[3]
		}
		n, err := q.ReleaseHeld(ctx, match)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd outbox:", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "%d held mails queued: the daemon sends them when it runs live\n", n)
		return exitOK
	case (rest[0] == "show" || rest[0] == "retry") && len(rest) == 2:
		id, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			fmt.Fprintln(stderr, usage)
			return exitBadConfig
		}
		if rest[0] == "retry" {
			if err := q.Retry(ctx, id); err != nil {
				fmt.Fprintln(stderr, "gatewayd outbox:", err)
				return exitFailure
			}
			fmt.Fprintf(stdout, "answer %d queued again\n", id)
			return exitOK
		}
		it, err := q.Get(ctx, id)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd outbox:", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "# answer %d: %s, %s, to %s, attempts %d %s\n", it.ID, it.State, it.Kind, it.To, it.Attempts, it.LastError)
		stdout.Write(it.Raw)
		return exitOK
	}
	fmt.Fprintln(stderr, usage)
	return exitBadConfig
}
