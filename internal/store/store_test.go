package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/clock"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/triage"
)

func openTest(t *testing.T, dir string, now time.Time) *Store {
	t.Helper()
	f, _ := protocol.Parse(protocol.DefaultFormat)
	s, err := Open(context.Background(), Options{StateDir: dir, Office: "FE", Format: f, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// inboxStore opens a new store whose mailbox "a" watches INBOX under
// UIDVALIDITY 1.
func inboxStore(t *testing.T) (context.Context, *Store) {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, t.TempDir(), time.Now())
	s.SetFolder(ctx, "a", Folder{"INBOX", 1}, 0)
	return ctx, s
}

// msg is one message of a test batch.
type msg struct {
	uid         uint32
	msgID, body string
}

// ingest writes the messages into one segment and ingests them from
// INBOX under uidvalidity.
func ingest(t *testing.T, s *Store, mailbox string, uidvalidity uint32, msgs ...msg) ([]Result, []Item, error) {
	t.Helper()
	return ingestIn(t, s, mailbox, Folder{"INBOX", uidvalidity}, msgs...)
}

// ingestIn is ingest from folder f.
func ingestIn(t *testing.T, s *Store, mailbox string, f Folder, msgs ...msg) ([]Result, []Item, error) {
	t.Helper()
	seg, err := s.Spool().NewSegment(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	var items []Item
	for _, m := range msgs {
		w := seg.Begin(0)
		io.Copy(w, bytes.NewReader([]byte(m.body)))
		items = append(items, Item{UID: m.uid, Size: int64(len(m.body)), Body: w.Close(), Facts: mailparse.Facts{MessageID: m.msgID},
			Decision: triage.Decision{Outcome: triage.Accepted}, InternalDate: time.Now()})
	}
	r, err := s.Ingest(context.Background(), mailbox, f, seg, items, nil)
	return r, items, err
}

// count runs a SELECT count(*) query.
func count(t *testing.T, s *Store, query string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIngest_idempotent: the same sighting twice, and the same message
// under another UID or mailbox, never get a second number.
func TestIngest_idempotent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), time.Date(2026, 3, 2, 10, 0, 0, 0, clock.Rome))
	if _, err := s.SetFolder(ctx, "a", Folder{"INBOX", 7}, 0); err != nil {
		t.Fatal(err)
	}
	r1, _, err := ingest(t, s, "a", 7, msg{1, "x@y", "body one"}, msg{2, "z@y", "body two"})
	if err != nil {
		t.Fatal(err)
	}
	if r1[0].Protocol != "INPS.FE.2026.0000001" || r1[1].Protocol != "INPS.FE.2026.0000002" {
		t.Fatalf("protocols = %q, %q", r1[0].Protocol, r1[1].Protocol)
	}
	again, _, err := ingest(t, s, "a", 7, msg{1, "x@y", "body one"}) // same sighting
	if err != nil || !again[0].SeenAgain || again[0].Protocol != "INPS.FE.2026.0000001" {
		t.Fatalf("same sighting: %+v, %v", again, err)
	}
	copyRes, _, err := ingest(t, s, "b", 9, msg{40, "x@y", "body one"}) // copied to another mailbox
	if err != nil || !copyRes[0].SeenAgain || copyRes[0].Protocol != "INPS.FE.2026.0000001" {
		t.Fatalf("copy: %+v, %v", copyRes, err)
	}
	other, _, err := ingest(t, s, "a", 7, msg{3, "x@y", "body one, changed"}) // same id, other bytes
	if err != nil || other[0].SeenAgain || other[0].Protocol != "INPS.FE.2026.0000003" {
		t.Fatalf("other bytes: %+v, %v", other, err)
	}
	st, _ := s.MailboxState(ctx, "a")
	if st.LastUID != 3 || st.UIDValidity != 7 {
		t.Errorf("state = %+v, want uidvalidity 7, last uid 3", st)
	}
	if pm, _ := s.PendingMoves(ctx, "a", Folder{"INBOX", 7}); len(pm) != 3 {
		t.Errorf("pending moves = %d, want 3", len(pm))
	}
	if err := s.MarkMoved(ctx, "a", Folder{"INBOX", 7}, []uint32{1, 2, 3}, "done"); err != nil {
		t.Fatal(err)
	}
	if pm, _ := s.PendingMoves(ctx, "a", Folder{"INBOX", 7}); len(pm) != 0 {
		t.Errorf("pending moves after MarkMoved = %d, want 0", len(pm))
	}
}

func TestSetUIDValidity_resets(t *testing.T) {
	ctx, s := inboxStore(t)
	ingest(t, s, "a", 1, msg{5, "m@x", "b"})
	changed, err := s.SetFolder(ctx, "a", Folder{"INBOX", 2}, 0)
	if err != nil || !changed {
		t.Fatalf("SetUIDValidity() = %v, %v, want changed", changed, err)
	}
	if st, _ := s.MailboxState(ctx, "a"); st.LastUID != 0 || st.UIDValidity != 2 {
		t.Errorf("state = %+v, want last uid 0 under uidvalidity 2", st)
	}
}

// TestSetFolder_folder: another folder resyncs from UID 0 whatever its
// UIDVALIDITY, and its UIDs never pass for the old folder's sightings: a
// different message under the same UIDVALIDITY and UID is recorded as
// new; back in the old folder, its sightings hold again. A state from
// before folders were recorded (”) resyncs once.
func TestSetFolder_folder(t *testing.T) {
	ctx, s := inboxStore(t)
	ingest(t, s, "a", 1, msg{5, "m@x", "b"})
	if changed, err := s.SetFolder(ctx, "a", Folder{"Other", 1}, 0); err != nil || !changed {
		t.Fatalf("other folder, same UIDVALIDITY: %v, %v; want changed", changed, err)
	}
	if st, _ := s.MailboxState(ctx, "a"); st.LastUID != 0 {
		t.Errorf("state = %+v, want last uid 0", st)
	}
	res, _, err := ingestIn(t, s, "a", Folder{"Other", 1}, msg{5, "n@x", "c"})
	if err != nil || res[0].SeenAgain || res[0].Protocol == "" {
		t.Fatalf("UID 5 of the other folder: %+v, %v; want a new message with its own number", res, err)
	}
	if changed, _ := s.SetFolder(ctx, "a", Folder{"INBOX", 1}, 0); !changed {
		t.Fatal("back to INBOX: not a change")
	}
	res, _, err = ingestIn(t, s, "a", Folder{"INBOX", 1}, msg{5, "m@x", "b"})
	if err != nil || !res[0].SeenAgain {
		t.Fatalf("UID 5 of INBOX again: %+v, %v; want its first sighting", res, err)
	}
	if n := count(t, s, `SELECT count(*) FROM protocols`); n != 2 {
		t.Errorf("%d numbers given, want 2", n)
	}
	// A state from before migration 0006: folder '' on the state and its
	// sightings. Under the same UIDVALIDITY the sightings take the folder,
	// the moves still pending are dropped and the folder is read again.
	if err := s.MarkMoved(ctx, "a", Folder{"INBOX", 1}, []uint32{5}, "done"); err != nil {
		t.Fatal(err)
	}
	ingest(t, s, "a", 1, msg{6, "p@x", "d"}) // pending
	for _, q := range []string{`UPDATE mailbox_state SET folder = '' WHERE mailbox = 'a'`, `UPDATE sightings SET folder = '' WHERE folder = 'INBOX'`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if changed, _ := s.SetFolder(ctx, "a", Folder{"INBOX", 1}, 7); changed {
		t.Error("taking the folder after the upgrade reported as a change")
	}
	if n := count(t, s, `SELECT count(*) FROM sightings WHERE folder = 'INBOX' AND uidvalidity = 1 AND uid = 5`); n != 1 {
		t.Error("the moved sighting did not take the folder")
	}
	if n := count(t, s, `SELECT count(*) FROM sightings WHERE uid = 6`); n != 0 {
		t.Error("the pending sighting was not dropped")
	}
	if st, _ := s.MailboxState(ctx, "a"); st.LastUID != 0 {
		t.Errorf("state = %+v, want the folder read again", st)
	}
	// UIDNEXT not above the last UID: UIDs given again under the same
	// UIDVALIDITY (a server recreating the folder): read again.
	ingest(t, s, "a", 1, msg{6, "p@x", "d"})
	if changed, _ := s.SetFolder(ctx, "a", Folder{"INBOX", 1}, 3); !changed {
		t.Error("UIDNEXT 3 under last UID 6 is not a change")
	}
	if pm, _ := s.PendingMoves(ctx, "a", Folder{"INBOX", 1}); len(pm) != 0 {
		t.Errorf("%d moves still pending after UIDs were given again: their UIDs may name other mail now", len(pm))
	}
}

// TestDropPendingMoves_counts: the moves left pending under another folder
// or UIDVALIDITY are forgotten once, each with a move-dropped event; seen
// again, the message is recognised (not numbered twice).
func TestDropPendingMoves_counts(t *testing.T) {
	ctx, s := inboxStore(t)
	ingest(t, s, "a", 1, msg{5, "m@x", "b"}, msg{6, "n@x", "c"})
	if n, err := s.DropPendingMoves(ctx, "a", Folder{"INBOX", 1}); err != nil || n != 0 {
		t.Fatalf("current folder: dropped %d, %v; want 0", n, err)
	}
	if n, err := s.DropPendingMoves(ctx, "a", Folder{"INBOX", 2}); err != nil || n != 2 {
		t.Fatalf("old UIDVALIDITY: dropped %d, %v; want 2", n, err)
	}
	if n, _ := s.DropPendingMoves(ctx, "a", Folder{"INBOX", 2}); n != 0 {
		t.Errorf("dropped %d again, want 0", n)
	}
	if n := count(t, s, `SELECT count(*) FROM events WHERE kind = 'move-dropped'`); n != 2 {
		t.Errorf("%d move-dropped events, want 2", n)
	}
	res, _, err := ingestIn(t, s, "a", Folder{"INBOX", 1}, msg{5, "m@x", "b"})
	if err != nil || !res[0].SeenAgain {
		t.Fatalf("a dropped message seen again: %+v, %v; want recognised", res, err)
	}
}

// TestSightings_trialAndReusedUIDs: in shadow mode no move is ever
// pending (a crash between commit and move leaves nothing to MOVE once
// live); once live, a mail the trial left in place — numbered or refused
// — seen again under another UIDVALIDITY stays in place; and a UID that
// names another message than the one recorded under it (UIDs given again)
// is not taken for it: the new message is judged, numbered, and the old
// sighting forgotten with an event.
func TestSightings_trialAndReusedUIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, _ := protocol.Parse(protocol.DefaultFormat)
	shadow, err := Open(ctx, Options{StateDir: dir, Office: "FE", Format: f, Shadow: true, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	shadow.SetFolder(ctx, "a", Folder{"INBOX", 1}, 0)
	if _, _, err := ingest(t, shadow, "a", 1, msg{1, "acc@x", "a"}); err != nil {
		t.Fatal(err)
	}
	refused := msg{2, "ref@x", "r"}
	seg, _ := shadow.Spool().NewSegment(time.Now())
	w := seg.Begin(0)
	w.Write([]byte(refused.body))
	if _, err := shadow.Ingest(ctx, "a", Folder{"INBOX", 1}, seg, []Item{{UID: 2, Size: 1, Body: w.Close(), InternalDate: time.Now(),
		Facts: mailparse.Facts{MessageID: refused.msgID}, Decision: triage.Decision{Outcome: triage.Refused, Reasons: []string{"x"}}}}, nil); err != nil {
		t.Fatal(err)
	}
	seg.Close()
	if pm, _ := shadow.PendingMoves(ctx, "a", Folder{"INBOX", 1}); len(pm) != 0 {
		t.Errorf("shadow mode left %d moves pending, want none", len(pm))
	}
	shadow.Close()

	live := openTest(t, dir, time.Now())
	live.SetFolder(ctx, "a", Folder{"INBOX", 2}, 0)
	res, _, err := ingestIn(t, live, "a", Folder{"INBOX", 2}, msg{7, "acc@x", "a"}, msg{8, "ref@x", "r"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.SeenAgain || !r.Kept {
			t.Errorf("uid %d, seen by the trial, again when live: %+v; want kept in place", r.UID, r)
		}
	}

	// UIDs given again: UID 5 recorded for m@x, then the server resets
	// its UIDs (UIDNEXT below the last UID) and UID 5 is another mail.
	ingestIn(t, live, "a", Folder{"INBOX", 2}, msg{9, "m@x", "b"})
	if err := live.MarkMoved(ctx, "a", Folder{"INBOX", 2}, []uint32{9}, "done"); err != nil {
		t.Fatal(err)
	}
	if changed, _ := live.SetFolder(ctx, "a", Folder{"INBOX", 2}, 4); !changed {
		t.Fatal("UIDNEXT 4 under last UID 9 is not a change")
	}
	res, _, err = ingestIn(t, live, "a", Folder{"INBOX", 2}, msg{9, "other@x", "c"})
	if err != nil || res[0].SeenAgain || res[0].Protocol == "" {
		t.Fatalf("a reused UID: %+v, %v; want the new mail judged and numbered", res, err)
	}
	if n := count(t, live, `SELECT count(*) FROM events WHERE kind = 'sighting-replaced'`); n != 1 {
		t.Errorf("%d sighting-replaced events, want 1", n)
	}
}

func TestEvents_appendOnly(t *testing.T) {
	_, s := inboxStore(t)
	ingest(t, s, "a", 1, msg{1, "m@x", "b"})
	if _, err := s.DB().Exec(`UPDATE events SET kind = 'forged'`); err == nil {
		t.Error("UPDATE events succeeded, want the append-only trigger to refuse it")
	}
}

func TestOpen_locked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir, time.Now())
	f, _ := protocol.Parse(protocol.DefaultFormat)
	_, err := Open(context.Background(), Options{StateDir: dir, Office: "FE", Format: f})
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open() = %v, want ErrLocked", err)
	}
}

// TestIngest_bodyKept: the spool holds the bytes under their SHA-256.
func TestIngest_bodyKept(t *testing.T) {
	_, s := inboxStore(t)
	_, items, err := ingest(t, s, "a", 1, msg{1, "m@x", "first\r\n"}, msg{2, "n@x", "byte for byte\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Spool().Open(items[1].Body)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, _ := io.ReadAll(r)
	if string(got) != "byte for byte\r\n" {
		t.Errorf("spooled body = %q", got)
	}
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != items[1].Body.SHA256 {
		t.Errorf("stored SHA-256 does not match the bytes")
	}
}

// TestOpen_removesStraySegments: a segment written but never committed (a
// crash between the two) is removed at the next start.
func TestOpen_removesStraySegments(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, time.Now())
	s.SetFolder(context.Background(), "a", Folder{"INBOX", 1}, 0)
	ingest(t, s, "a", 1, msg{1, "kept@x", "kept"})
	stray, _ := s.Spool().NewSegment(time.Now())
	stray.Begin(0).Write([]byte("never committed"))
	stray.Commit()
	stray.Close()
	s.Close()
	s = openTest(t, dir, time.Now())
	segs, _ := s.Spool().Segments()
	if len(segs) != 1 {
		t.Errorf("segments after reopen = %v, want only the committed one", segs)
	}
}

// TestPurge_dropsSeenAgainBytes: the bytes of a message seen again (here
// in another mailbox) are in a segment no message names: the purge drops
// it, even with nothing past the retention.
func TestPurge_dropsSeenAgainBytes(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, time.Date(2026, 3, 2, 10, 0, 0, 0, clock.Rome))
	if _, _, err := ingest(t, s, "a", 7, msg{1, "x@y", "body one"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ingest(t, s, "b", 9, msg{4, "x@y", "body one"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Purge(context.Background(), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || res.Messages != 0 || res.Segments != 1 {
		t.Fatalf("Purge() = %+v, %v; want one segment dropped, no message", res, err)
	}
	segs, _ := s.Spool().Segments()
	if len(segs) != 1 {
		t.Errorf("%d segment files left, want 1", len(segs))
	}
}

// TestOpenReader_olderSchema: the commands refuse a store the daemon has
// not migrated yet, saying so, instead of failing on a missing column.
func TestOpenReader_olderSchema(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, time.Now())
	if _, err := s.DB().Exec(`DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReader(dir); err == nil || !strings.Contains(err.Error(), "restart the daemon with this binary") {
		t.Fatalf("OpenReader() on an older schema = %v", err)
	}
}

// TestOpen_removesStaleBackups: a backup killed half way leaves its copy
// of the database in the state directory; the next start removes it once
// a day old, and leaves a younger one (a backup running beside it).
func TestOpen_removesStaleBackups(t *testing.T) {
	dir := t.TempDir()
	old, young := filepath.Join(dir, ".backup-1"), filepath.Join(dir, ".backup-2")
	for _, p := range []string{old, young} {
		os.MkdirAll(p, 0o700)
		os.WriteFile(filepath.Join(p, "gatewayd.db"), []byte("copy"), 0o600)
	}
	os.Chtimes(old, time.Now().Add(-48*time.Hour), time.Now().Add(-48*time.Hour))
	openTest(t, dir, time.Now())
	if _, err := os.Stat(old); err == nil {
		t.Error("a two-day-old backup copy is still there")
	}
	if _, err := os.Stat(young); err != nil {
		t.Error("a backup copy made just now was removed")
	}
}
