package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv"
	"gatewayd/internal/triage"
)

// fillForPurge records batches of messages, each batch one spool
// segment: the even ones refused (no case: past the retention once its
// days pass), the odd ones accepted with a case still open (kept).
func fillForPurge(t *testing.T, state string, batches, perBatch int) map[int64]bool {
	t.Helper()
	f, _ := protocol.Parse(protocol.DefaultFormat)
	st, err := store.Open(context.Background(), store.Options{StateDir: state, Office: "FE", Format: f})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetFolder(context.Background(), "gc", store.Folder{Name: "INBOX", UIDValidity: 1}, 0)
	body := bytes.Repeat([]byte("testo della comunicazione, riga lunga di prova.\r\n"), 400) // 20 KB
	uid := uint32(0)
	for b := 0; b < batches; b++ {
		seg, err := st.Spool().NewSegment(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var items []store.Item
		for i := 0; i < perBatch; i++ {
			uid++
			w := seg.Begin(0)
			fmt.Fprintf(w, "Message-ID: <p%d@purge.test>\r\nSubject: n. %d\r\n\r\n", uid, uid)
			w.Write(body)
			d := triage.Decision{Outcome: triage.Refused, Reasons: []string{"missing-codice-fiscale"}}
			if uid%2 == 1 {
				d = triage.Decision{Outcome: triage.Accepted, Reasons: []string{}, Sender: "a@example.it"}
			}
			items = append(items, store.Item{UID: uid, InternalDate: time.Now(), Size: 20000, Body: w.Close(),
				Facts: mailparse.Facts{MessageID: fmt.Sprintf("p%d@purge.test", uid)}, Decision: d})
		}
		open := func(r store.Result, it store.Item) store.Followup {
			if r.Outcome != triage.Accepted {
				return store.Followup{}
			}
			day := time.Now()
			return store.Followup{Case: &store.NewCase{Address: "GestioneCredito.Ferrara@inps.it", Sender: "a@example.it",
				ReceivedDay: day, Due: day.AddDate(0, 0, 14), TermDays: 10}}
		}
		if _, err := st.Ingest(context.Background(), "gc", store.Folder{Name: "INBOX", UIDValidity: 1}, seg, items, open); err != nil {
			t.Fatal(err)
		}
		seg.Close()
	}
	keep := map[int64]bool{}
	rows, _ := st.DB().Query(`SELECT m.id, c.id IS NOT NULL FROM messages m LEFT JOIN cases c ON c.message = m.id`)
	defer rows.Close()
	for rows.Next() {
		var id int64
		var hasCase bool
		rows.Scan(&id, &hasCase)
		keep[id] = hasCase
	}
	return keep
}

// TestBinary_SIGKILLPurge kills `gatewayd purge` at random moments while
// it compacts the spool: in the end every kept message reads back with
// its SHA-256, every other is marked purged with its row kept, and the
// spool holds only the segments the store names.
func TestBinary_SIGKILLPurge(t *testing.T) {
	bin := buildBinary(t)
	state := t.TempDir()
	keep := fillForPurge(t, state, 12, 40)
	rulesDir := t.TempDir()
	os.CopyFS(rulesDir, os.DirFS("../../rules/ferrara"))
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: "127.0.0.1:1",
		User: "gc", Password: "pw", SMTPAddr: "127.0.0.1:2"})
	addToConfig(t, cfg.File, "rules_dir: "+rulesDir)
	if got, code := cmd("purge", "--config", cfg.File, "--dry-run"); code != exitOK || !bytes.Contains([]byte(got), []byte("dry run: 0 messages")) {
		t.Fatalf("purge --dry-run today = %d: %s", code, got)
	}
	future := "GATEWAYD_CLOCK=" + time.Now().AddDate(0, 0, 800).Format(time.RFC3339)
	kills := 0
	for done := false; !done; {
		c := exec.Command(bin, "purge", "--config", cfg.File)
		c.Env = append(os.Environ(), future)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		if kills < 40 {
			time.Sleep(time.Duration(5+rand.IntN(60)) * time.Millisecond)
			c.Process.Signal(syscall.SIGKILL)
		}
		err := c.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			done = true
		case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled():
			kills++
		default:
			t.Fatalf("purge failed: %v\n%s", err, out.String())
		}
	}
	t.Logf("%d kills during the purge", kills)
	rd, err := store.OpenReader(state)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	db := testenv.OpenDB(t, state)
	for id, kept := range keep {
		r, _, _, err := rd.Stored(context.Background(), id)
		if !kept {
			if !errors.Is(err, store.ErrPurged) {
				t.Errorf("message %d: Stored() = %v, want purged", id, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("kept message %d: %v", id, err)
		}
		h := sha256.New()
		io.Copy(h, r)
		r.Close()
		var want string
		db.QueryRow(`SELECT sha256 FROM messages WHERE id = ?`, id).Scan(&want)
		if hex.EncodeToString(h.Sum(nil)) != want {
			t.Errorf("kept message %d no longer matches its SHA-256", id)
		}
	}
	files, _ := filepath.Glob(filepath.Join(state, "spool", "*", "*.seg"))
	rows := testenv.Int(t, db, `SELECT count(*) FROM spool_segments WHERE name != ''`)
	if len(files) != rows || rows == 0 || rows > 12 {
		t.Errorf("%d segment files, %d named by the store", len(files), rows)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM messages WHERE purged_at != ''`); n != 240 {
		t.Errorf("%d messages purged, want 240", n)
	}
	if got, _ := cmd("purge", "--config", cfg.File); !bytes.Contains([]byte(got), []byte("purged 0 messages")) {
		t.Errorf("a second purge today: %s", got)
	}
}
