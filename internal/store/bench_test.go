package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/triage"
)

// BenchmarkIngest records batches of 250 accepted messages (2 KB each):
// spool segment, one transaction, then the moves. It reports messages/s.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	s := openTest(&testing.T{}, b.TempDir(), time.Now())
	defer s.Close()
	s.SetFolder(ctx, "a", Folder{"INBOX", 1}, 0)
	body := make([]byte, 2000)
	uid := uint32(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seg, _ := s.Spool().NewSegment(time.Now())
		items := make([]Item, 250)
		uids := make([]uint32, 250)
		for j := range items {
			uid++
			w := seg.Begin(0)
			w.Write(body)
			items[j] = Item{UID: uid, Size: 2000, Body: w.Close(), InternalDate: time.Now(),
				Facts: mailparse.Facts{MessageID: fmt.Sprintf("%d@x", uid)}, Decision: triage.Decision{Outcome: triage.Accepted}}
			uids[j] = uid
		}
		if _, err := s.Ingest(ctx, "a", Folder{"INBOX", 1}, seg, items, nil); err != nil {
			b.Fatal(err)
		}
		seg.Close()
		if err := s.MarkMoved(ctx, "a", Folder{"INBOX", 1}, uids, "done"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*250)/b.Elapsed().Seconds(), "msgs/s")
}
