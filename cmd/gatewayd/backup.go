package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/durable"
	"gatewayd/internal/health"
	"gatewayd/internal/store"
)

// cmdBackup writes a consistent copy of the store while the daemon runs:
// gatewayd backup --config FILE ARCHIVE.tar (- for standard output).
func cmdBackup(args []string, stdout, stderr io.Writer) int {
	usage := "usage: gatewayd backup --config FILE ARCHIVE.tar   (a consistent copy while the daemon runs; - writes to standard output)"
	cfg, file, code := oneArg("backup", usage, args, stdout, stderr)
	if cfg == nil {
		return code
	}
	var w io.Writer = stdout
	var f *os.File
	if file != "-" {
		var err error
		if f, err = os.OpenFile(file+".part", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600); err != nil {
			fmt.Fprintln(stderr, "gatewayd backup:", err)
			return exitFailure
		}
		defer os.Remove(file + ".part")
		w = f
	}
	info, err := store.Backup(context.Background(), cfg.StateDir, w)
	if err == nil && f != nil {
		if err = f.Sync(); err == nil {
			err = f.Close()
		}
		if err == nil {
			err = durable.Rename(file+".part", file)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd backup:", err)
		return exitFailure
	}
	if file != "-" {
		fmt.Fprintf(stdout, "backup %s: %d messages, %d files, taken %s\n", file, info.Messages, len(info.Files), info.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	}
	return exitOK
}

// cmdRestore unpacks a backup into the configuration's (empty) state
// directory: gatewayd restore --config FILE ARCHIVE.tar.
func cmdRestore(args []string, stdout, stderr io.Writer) int {
	usage := "usage: gatewayd restore --config FILE ARCHIVE.tar   (into an empty state_dir, the daemon stopped)"
	cfg, file, code := oneArg("restore", usage, args, stdout, stderr)
	if cfg == nil {
		return code
	}
	if addr, ok := daemonAnswers(cfg); ok {
		fmt.Fprintf(stderr, "gatewayd restore: a gatewayd answers /healthz on %s: stop it first (systemctl stop gatewayd); "+
			"a daemon still running on a state directory moved away would go on working beside the restored one\n", addr)
		return exitFailure
	}
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd restore:", err)
		return exitFailure
	}
	defer f.Close()
	info, held, err := store.Restore(f, cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "restored %d messages and %d files from the backup of %s into %s; %d mails that were queued are held (outbox list held)\n",
		info.Messages, len(info.Files), info.CreatedAt.Format("2006-01-02 15:04:05 MST"), cfg.StateDir, held)
	return exitOK
}

// daemonAnswers reports whether a gatewayd serves /healthz on the
// configuration's HTTP address (restore's check that the daemon is
// stopped: its lock moved away with a state directory renamed under it).
func daemonAnswers(cfg *config.Config) (string, bool) {
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil || port == "0" { // "none", or a port the kernel chose
		return "", false
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, port)
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var r health.Report
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil || r.Status == "" {
		return "", false // something else listens there
	}
	return addr, true
}

// oneArg loads the configuration and takes the command's one argument.
func oneArg(name, usage string, args []string, stdout, stderr io.Writer) (*config.Config, string, int) {
	if helpAsked(args) {
		fmt.Fprintln(stdout, usage)
		return nil, "", exitOK
	}
	cfg, rest := loadConfig(name, args, stderr)
	if cfg == nil {
		return nil, "", exitBadConfig
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, usage)
		return nil, "", exitBadConfig
	}
	return cfg, rest[0], exitOK
}
