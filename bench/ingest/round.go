package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/spool"
)

// measure is one client's rate and what it cost in CPU.
type measure struct {
	rate float64 // messages per second
	cpu  cpuUse
}

// figures are one round's measurements: the raw fetch, fetch + move (the
// limit), fetch + move that also hashes every body, or also writes it to a
// spool segment synced before the move (what gatewayd cannot skip), and
// gatewayd itself.
type figures struct {
	raw, fetchMove, hashed, spooled measure
	pipelined                       measure // fetch, hash and spool overlapped with sync and move
	gw                              gatewayRun
	other                           gatewayRun // -compare's binary, when given
}

func (f figures) ratio() float64        { return f.gw.rate / f.raw.rate }
func (f figures) ratioToLimit() float64 { return f.gw.rate / f.fetchMove.rate }

func (f figures) print(r int) {
	fmt.Printf("run %d: raw fetch %.0f msgs/s, fetch+move %.0f msgs/s, gatewayd %.0f msgs/s from its logged-in connection "+
		"(%.0f from process start), peak RSS %.0f MB; ratio %.2f, to the limit %.2f\n",
		r, f.raw.rate, f.fetchMove.rate, f.gw.rate, f.gw.whole, f.gw.rssMB, f.ratio(), f.ratioToLimit())
	fmt.Printf("  raw fetch             %v\n  fetch+move            %v\n", f.raw.cpu, f.fetchMove.cpu)
	fmt.Printf("  fetch+SHA-256+move    %.0f msgs/s, %v\n", f.hashed.rate, f.hashed.cpu)
	fmt.Printf("  fetch+spool+move      %.0f msgs/s, %v\n", f.spooled.rate, f.spooled.cpu)
	fmt.Printf("  the same, pipelined   %.0f msgs/s, %v\n", f.pipelined.rate, f.pipelined.cpu)
	fmt.Printf("  gatewayd              %v\n", f.gw.cpu)
	if compareBin != "" {
		fmt.Printf("  -compare's gatewayd   %.0f msgs/s (to the limit %.2f), peak RSS %.0f MB, %v\n",
			f.other.rate, f.other.rate/f.fetchMove.rate, f.other.rssMB, f.other.cpu)
	}
}

// round takes each measurement on its own fresh copy of the mix.
func round(h *harness.H, c *imapclient.Client, bin, addr string, total, r int) (figures, error) {
	var f figures
	var err error
	if f.raw, err = measured(c, "raw", total, func(uids []imap.UID) (float64, error) { return rawFetch(c, "raw", uids) }); err != nil {
		return f, err
	}
	spoolDir := filepath.Join(writeDir, fmt.Sprintf("spool%d", r))
	defer os.RemoveAll(spoolDir) // 505 MB a round
	sp, err := spool.Open(spoolDir)
	if err != nil {
		return f, err
	}
	for _, m := range []struct {
		to *measure
		k  keeper
	}{{&f.fetchMove, discard}, {&f.hashed, hashing}, {&f.spooled, spooling(sp)}} {
		if err := c.Create("fetchmove-done", nil).Wait(); err != nil {
			return f, fmt.Errorf("creating fetchmove-done: %w", err)
		}
		*m.to, err = measured(c, "fetchmove", total, func(uids []imap.UID) (float64, error) {
			return fetchMove(c, "fetchmove", "fetchmove-done", uids, batchSize, m.k)
		})
		if err != nil {
			return f, err
		}
		dropFolders(c, "fetchmove-done")
	}
	if err := c.Create("fetchmove-done", nil).Wait(); err != nil {
		return f, fmt.Errorf("creating fetchmove-done: %w", err)
	}
	f.pipelined, err = measured(c, "fetchmove", total, func(uids []imap.UID) (float64, error) {
		return fetchSpoolMove(c, "fetchmove", "fetchmove-done", uids, batchSize, sp)
	})
	if err != nil {
		return f, err
	}
	dropFolders(c, "fetchmove-done")
	runs := []struct {
		bin string
		id  int
		to  *gatewayRun
	}{{bin, r, &f.gw}}
	if compareBin != "" { // alternating which goes first, against drift
		runs = append(runs, struct {
			bin string
			id  int
			to  *gatewayRun
		}{compareBin, 100 + r, &f.other})
		if r%2 == 0 {
			runs[0], runs[1] = runs[1], runs[0]
		}
	}
	for _, g := range runs {
		if _, err := copyMix(c, "INBOX", total); err != nil {
			return f, err
		}
		if *g.to, err = gateway(h, g.bin, addr, total, g.id); err != nil {
			return f, err
		}
		dropFolders(c, outcomeFolders...)
	}
	return f, nil
}

// measured runs a client on a fresh copy of the mix in folder, sampling
// the CPU around it, and drops the folder after.
func measured(c *imapclient.Client, folder string, total int, client func([]imap.UID) (float64, error)) (measure, error) {
	uids, err := copyMix(c, folder, total)
	if err != nil {
		return measure{}, err
	}
	before := sampleCPU(master)
	rate, err := client(uids)
	if err != nil {
		return measure{}, err
	}
	m := measure{rate: rate, cpu: before.to(sampleCPU(master))}
	dropFolders(c, folder)
	return m, nil
}
