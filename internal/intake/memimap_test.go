package intake_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/memimap"
	"gatewayd/internal/protocol"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/gateway"
)

// startMem starts the in-process server with one user holding msgs.
func startMem(t *testing.T, o memimap.Options, msgs [][]byte) *memimap.Server {
	t.Helper()
	srv, err := memimap.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("u", "p"); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := srv.Append("u", "INBOX", m); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// TestMem_moveFallback: a server without MOVE and UIDPLUS gets COPY +
// STORE \Deleted + EXPUNGE, and every message still ends up moved once.
func TestMem_moveFallback(t *testing.T) {
	for _, noMove := range []bool{false, true} {
		t.Run(fmt.Sprintf("noMove=%v", noMove), func(t *testing.T) {
			srv := startMem(t, memimap.Options{NoMove: noMove}, testenv.Messages("fb", 30))
			state := t.TempDir()
			gateway.Start(t, testenv.Config(t, state, testenv.Mailbox{Name: "m", Address: "a@b.it", Addr: srv.Addr, User: "u", Password: "p",
				Extra: "    batch_size: 7\n"}), nil, nil)
			db := testenv.OpenDB(t, state)
			testenv.Eventually(t, 20*time.Second, func() (bool, string) {
				n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`)
				return n == 30, fmt.Sprintf("%d of 30 moved", n)
			})
			testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 30)
		})
	}
}

// TestMem_newMailWhileIdle: mail arriving while the watcher waits (IDLE)
// is picked up well before the poll interval would.
func TestMem_newMailWhileIdle(t *testing.T) {
	srv := startMem(t, memimap.Options{}, nil)
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, testenv.Mailbox{Name: "m", Address: "a@b.it", Addr: srv.Addr, User: "u", Password: "p",
		PollInterval: "1h"}), nil, nil)
	db := testenv.OpenDB(t, state)
	time.Sleep(300 * time.Millisecond) // connected and idling
	if err := srv.Append("u", "INBOX", testenv.Message("idle-1", 500)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM protocols`)
		return n == 1, "the message was not picked up: IDLE did not wake the watcher"
	})
}

// TestMem_bodyNotReturned: a message listed but left out of the FETCH of
// bodies (a server's fault, or expunged meanwhile) is not passed over: the
// batch stops before it (the message before it is recorded), the round
// fails with an error naming it and is retried with backoff; once the
// server returns it, it and the ones after it are recorded, each once.
func TestMem_bodyNotReturned(t *testing.T) {
	var withhold atomic.Bool
	withhold.Store(true)
	srv := startMem(t, memimap.Options{NoBody: func(u imap.UID) bool { return u == 2 && withhold.Load() }}, testenv.Messages("nb", 3))
	state := t.TempDir()
	var logs testenv.LogBuffer
	gateway.StartLogged(t, testenv.Config(t, state, testenv.Mailbox{Name: "m", Address: "a@b.it", Addr: srv.Addr, User: "u", Password: "p"}),
		nil, nil, &logs)
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		var last string
		db.QueryRow(`SELECT last_error FROM mailbox_state`).Scan(&last)
		return strings.Contains(last, "not returned by the server (first UID 2)"), fmt.Sprintf("last error %q", last)
	})
	if !strings.Contains(logs.String(), "was not returned by the FETCH of its body") || !strings.Contains(logs.String(), "uid=2") {
		t.Error("no warning naming UID 2")
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM sightings`); n != 1 {
		t.Errorf("%d sightings while UID 2 is withheld, want 1 (UID 1; nothing past the gap)", n)
	}
	if n := testenv.Int(t, db, `SELECT last_uid FROM mailbox_state`); n != 1 {
		t.Errorf("last UID %d while UID 2 is withheld, want 1", n)
	}
	withhold.Store(false)
	gateway.WaitMoved(t, db, 3, 20*time.Second)
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 3)
}

// TestMem_bodyGone: a message listed but gone before the FETCH of its
// body (expunged by another client: no longer found by UID SEARCH either)
// has nothing to record: the messages after it are recorded in the same
// round, and the mailbox does not fail.
func TestMem_bodyGone(t *testing.T) {
	srv := startMem(t, memimap.Options{NoBody: func(u imap.UID) bool { return u == 2 }, Gone: true}, testenv.Messages("gone", 3))
	state := t.TempDir()
	var logs testenv.LogBuffer
	gateway.StartLogged(t, testenv.Config(t, state, testenv.Mailbox{Name: "m", Address: "a@b.it", Addr: srv.Addr, User: "u", Password: "p"}),
		nil, nil, &logs)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 2, 20*time.Second)
	if n := testenv.Int(t, db, `SELECT attempts FROM mailbox_state`); n != 0 {
		t.Errorf("%d failed attempts, want none", n)
	}
	if !strings.Contains(logs.String(), "was gone before its body was fetched") || !strings.Contains(logs.String(), "uid=2") {
		t.Error("no line for UID 2")
	}
}

// TestMem_goneButListed: a server that lists a message again and again
// but neither returns it nor finds it (inconsistent) does not spin the
// mailbox: the round that records nothing fails, and is retried with the
// backoff.
func TestMem_goneButListed(t *testing.T) {
	srv := startMem(t, memimap.Options{NoBody: func(u imap.UID) bool { return u == 3 }, Gone: true}, testenv.Messages("ghost", 3))
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, testenv.Mailbox{Name: "m", Address: "a@b.it", Addr: srv.Addr, User: "u", Password: "p"}), nil, nil)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 2, 20*time.Second)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		var last string
		db.QueryRow(`SELECT last_error FROM mailbox_state`).Scan(&last)
		return strings.Contains(last, "lists UID 3 again but neither returns nor finds it"), fmt.Sprintf("last error %q", last)
	})
}

// TestMem_pendingMoveReusedUID: a move left pending by a crash, on a
// server that then gives its UIDs again under the same UIDVALIDITY with
// UIDNEXT above the old last UID (nothing to see), does not MOVE the
// other mail its UID now names: the Message-ID is checked first, the
// folder read again, and every message of it recorded.
func TestMem_pendingMoveReusedUID(t *testing.T) {
	a := startMem(t, memimap.Options{}, testenv.Messages("first", 3))
	state := t.TempDir()
	box := testenv.Mailbox{Name: "m", Address: "a@b.it", Addr: a.Addr, User: "u", Password: "p"}
	run := gateway.Start(t, testenv.Config(t, state, box), nil, nil)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 3, 20*time.Second)
	run.Stop(t)
	if _, err := db.Exec(`UPDATE sightings SET moved_at = NULL, moved_to = NULL WHERE uid = 1`); err != nil { // a crash before its MOVE
		t.Fatal(err)
	}
	b := startMem(t, memimap.Options{}, testenv.Messages("second", 5)) // the same UIDVALIDITY, UIDs 1..5 again
	var uv uint32
	db.QueryRow(`SELECT uidvalidity FROM mailbox_state`).Scan(&uv)
	if got := memUIDValidity(t, b); got != uv {
		t.Fatalf("the second server's UIDVALIDITY is %d, not the first's %d: the test needs them equal", got, uv)
	}
	box.Addr = b.Addr
	gateway.Start(t, testenv.Config(t, state, box), nil, nil)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM protocols`)
		return n == 8, fmt.Sprintf("%d numbers, want 8 (the first server's 3 and the second's 5)", n)
	})
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'move-dropped'`); n != 1 {
		t.Errorf("%d move-dropped events, want 1", n)
	}
}

// memUIDValidity is INBOX's UIDVALIDITY on the in-process server.
func memUIDValidity(t *testing.T, srv *memimap.Server) uint32 {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("u", "p").Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return st.UIDValidity
}
