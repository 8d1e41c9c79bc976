// Command gatewayd is the INPS office mailbox gateway: it watches the
// office's PEC and institutional mailboxes, protocols what is accepted and
// records every decision. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	_ "time/tzdata" // Europe/Rome without depending on the host's zoneinfo

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/demo"
	"gatewayd/internal/report"
	"gatewayd/internal/sdnotify"
	"gatewayd/internal/store"
	"gatewayd/internal/version"
)

// Exit codes. exitBadConfig is sysexits' EX_CONFIG: bad configuration or
// usage, which restarting cannot mend (the unit's RestartPreventExitStatus).
// It is not 2, which is also the Go runtime's exit status after an
// unrecovered panic: a crash must be restarted.
const (
	exitOK        = 0
	exitFailure   = 1
	exitBadConfig = 78
)

const usage = `usage: gatewayd <command> [flags]

commands:
  run      --config FILE [--shadow]
                           run the daemon (--shadow: record everything, send no answer)
  check    --config FILE [--connect] | --rules DIR
                           check the configuration, its rules and templates, the state directory and
                           the secrets, print every problem; --connect: log in to every account
  triage   --rules DIR --mailbox ADDRESS [--at RFC3339] [--pec-trust PEMFILE] FILE.eml
                           decide on one message as the daemon would; JSON on stdout
  deadlines --rules DIR --mailbox ADDRESS --at RFC3339
                           the due date and every step of the mailbox's ladder; JSON on stdout
  cases    --config FILE list [--mailbox NAME] [--state open|overdue|waiting|closed] [--json]
                           the cases: due date, state, ladder level, next step
  case     --config FILE show PROTOCOL | close PROTOCOL --outcome answered|unsatisfactory|withdrawn
           | wait PROTOCOL | forward PROTOCOL
                           a case's timeline; close it; put it on the professional; forward to the region
  outbox   --config FILE list [STATE] | show ID | retry ID | release --held [--reason TEXT]
                           the automatic answers: list, show one as sent, queue one again, send the held ones
  messages --config FILE list [--mailbox NAME] [--outcome O] [--reason R] [--from ADDR] [--cf CODE]
           [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]
                           find messages, numbered or not
  export   --config FILE PROTOCOL|MESSAGE-ID|ID > message.eml
                           the original bytes, checked against their SHA-256
  redecide --config FILE ID [--dry-run]
                           decide a refused or quarantined message again with today's rules; accepted, it is registered and answered
  accept   --config FILE ID --reason TEXT [--by NAME] [--dry-run]
                           the operator accepts a refused or quarantined message: registered, answered, who and why recorded
  replay   --config FILE --rules DIR --since YYYY-MM-DD [--json]
                           how another rules directory would decide every message since then (changes nothing)
  protocol --config FILE show NUMBER | annul NUMBER --reason TEXT --provvedimento REF [--by NAME]
           | amend NUMBER (--sender ADDR | --subject TEXT) --reason TEXT [--by NAME] | start-at N
                           the protocol register: a registration; annul or amend it; go on from an older register
  registro --config FILE verify [--from YYYY-MM-DD] | show YYYY-MM-DD [--csv] | list
                           the daily registers: check the hash chain and fingerprints, print a day, the handovers
  report   --config FILE --from YYYY-MM-DD --to YYYY-MM-DD [--mailbox NAME] [--by week|month]
           [--format text|csv|html] [-o FILE]
                           the compliance report per mailbox and week or month (P4)
  backup   --config FILE ARCHIVE.tar
                           a consistent copy of the store, spool and registers while the daemon runs
  restore  --config FILE ARCHIVE.tar
                           unpack a backup into an empty state_dir; the mails that were queued are held
  purge    --config FILE [--dry-run]
                           remove the bytes of messages past the rules' retention (the daemon does it nightly)
  show     --config FILE PROTOCOL|MESSAGE-ID|ID
                           show what is recorded of a message: every step, with its time
  demo     [-state DIR] [-v]
                           run a local demo on embedded sample mails (-v: the daemon's log)
  version                  the module version, VCS revision and time, and whether it was modified
  help     [COMMAND]       this text, or one command's (also: gatewayd COMMAND -h)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadConfig
	}
	if len(args) > 1 && helpRequested(args[1:]) && commandHelp(stdout, args[0]) {
		return exitOK
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "triage":
		return cmdTriage(args[1:], stdout, stderr)
	case "show":
		return cmdShow(args[1:], stdout, stderr)
	case "deadlines":
		return cmdDeadlines(args[1:], stdout, stderr)
	case "cases":
		return cmdCases(args[1:], stdout, stderr)
	case "messages":
		return cmdMessages(args[1:], stdout, stderr)
	case "export":
		return cmdExport(args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "case":
		return cmdCase(args[1:], stdout, stderr)
	case "redecide":
		return cmdRedecide(args[1:], stdout, stderr)
	case "accept":
		return cmdAccept(args[1:], stdout, stderr)
	case "protocol":
		return cmdProtocol(args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(args[1:], stdout, stderr)
	case "purge":
		return cmdPurge(args[1:], stdout, stderr)
	case "registro":
		return cmdRegistro(args[1:], stdout, stderr)
	case "outbox":
		return cmdOutbox(args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "gatewayd", version.Read())
		return exitOK
	case "help", "-h", "--help":
		if len(args) > 1 && commandHelp(stdout, args[1]) {
			return exitOK
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "gatewayd: unknown command %q\n%s", args[0], usage)
	return exitBadConfig
}

// loadConfig parses the --config flag and loads the file; on error it
// prints every problem and returns nil. It returns the other arguments too.
// loadConfig loads the configuration --config names and returns the
// other arguments, for the command's own verbs and flags. Except for run,
// --config may stand anywhere: gatewayd case close P --outcome O --config F.
func loadConfig(name string, args []string, stderr io.Writer) (*config.Config, []string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/gatewayd/gatewayd.yaml", "configuration file")
	shadow := false
	var rest []string
	if name == "run" {
		fs.BoolVar(&shadow, "shadow", false, "record everything, keep answers as held, send nothing")
	} else {
		args, rest = splitConfig(args)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil
	}
	load := config.LoadForTool // the commands read the store, not the mail accounts
	if name == "run" {
		load = config.Load
	}
	cfg, err := load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil
	}
	cfg.Shadow = cfg.Shadow || shadow
	return cfg, append(fs.Args(), rest...)
}

func cmdShow(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("show", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	if len(rest) != 1 {
		fmt.Fprint(stderr, "usage: gatewayd show --config FILE PROTOCOL|MESSAGE-ID|ID\n")
		return exitBadConfig
	}
	return showMessage(cfg.StateDir, rest[0], stdout, stderr)
}

// historyStore is what show needs of the store.
type historyStore interface {
	History(ctx context.Context, key string) (store.Message, []store.Event, error)
	Close() error
}

func showMessage(stateDir, key string, stdout, stderr io.Writer) int {
	var r historyStore
	r, err := store.OpenReader(stateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd show:", err)
		return exitFailure
	}
	defer r.Close()
	m, evs, err := r.History(context.Background(), key)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd show:", err)
		return exitFailure
	}
	report.History(stdout, m, evs)
	return exitOK
}

// commandClock is the clock of a command: the system's, or — for drills
// and tests — one running from GATEWAYD_CLOCK (RFC 3339).
func commandClock() (clock.Clock, error) {
	v := os.Getenv("GATEWAYD_CLOCK")
	if v == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("GATEWAYD_CLOCK %q: %w", v, err)
	}
	clk := &clock.Shifted{}
	clk.JumpTo(t)
	return clk.Now, nil
}

func cmdRun(args []string, stderr io.Writer) int {
	cfg, _ := loadConfig("run", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	log := daemon.NewLogger(stderr, cfg.Log)
	slog.SetDefault(log) // what logs without a logger of its own (a panic in a helper goroutine)
	d := &daemon.Daemon{Config: cfg, Log: log, LoadConfig: func() (*config.Config, error) {
		c, err := config.Load(cfg.File)
		if err == nil {
			c.Shadow = c.Shadow || cfg.Shadow // run --shadow holds until a restart
		}
		return c, err
	}}
	if v := os.Getenv("GATEWAYD_CLOCK"); v != "" { // drills and tests: run as if it were that time
		now, err := commandClock()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitBadConfig
		}
		d.Now = now
		log.Warn("the clock is shifted: the daemon runs as if it were another time", "now", now())
	}
	ctx, stop := signalContext(log, func() {
		sdnotify.Notify(sdnotify.Reload)
		d.Reload()
		sdnotify.Notify(sdnotify.Ready)
	})
	defer stop()
	if path := os.Getenv("GATEWAYD_CPUPROFILE"); path != "" { // for bench/ingest
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv("GATEWAYD_TRACE"); path != "" { // for bench/ingest: where the pipeline waits
		if f, err := os.Create(path); err == nil {
			trace.Start(f)
			defer trace.Stop()
		}
	}
	if err := d.Open(ctx); err != nil {
		var cerrs config.Errors
		if errors.As(err, &cerrs) {
			fmt.Fprintln(stderr, err)
			return exitBadConfig
		}
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	sdnotify.Notify(sdnotify.Ready)
	err := d.Run(ctx)
	sdnotify.Notify(sdnotify.Stopping)
	if err != nil {
		log.Error("stopped with error", "err", err)
		return exitFailure
	}
	return exitOK
}

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("state", "", "keep the demo's state in this directory (default: a temporary one, removed)")
	verbose := fs.Bool("v", false, "show the daemon's log")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	ctx, stop := signalContext(slog.New(slog.DiscardHandler), func() {})
	defer stop()
	if err := demo.Run(ctx, demo.Options{Out: stdout, Log: stderr, StateDir: *keep, Verbose: *verbose}); err != nil {
		fmt.Fprintln(stderr, "gatewayd demo:", err)
		return exitFailure
	}
	return exitOK
}

// hoistConfig moves --config FILE (or --config=FILE) to the front, so that
// it may stand anywhere: gatewayd case close P --outcome O --config F.
func hoistConfig(args []string) []string {
	var front, rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "--config" || a == "-config") && i+1 < len(args):
			front = append(front, a, args[i+1])
			i++
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			front = append(front, a)
		default:
			rest = append(rest, a)
		}
	}
	return append(front, rest...)
}

// splitConfig separates --config FILE (anywhere) from the other arguments.
func splitConfig(args []string) (cfgArgs, rest []string) {
	h := hoistConfig(args)
	switch {
	case len(h) >= 2 && (h[0] == "--config" || h[0] == "-config"):
		return h[:2], h[2:]
	case len(h) >= 1 && (strings.HasPrefix(h[0], "--config=") || strings.HasPrefix(h[0], "-config=")):
		return h[:1], h[1:]
	}
	return nil, h
}

// writeJSON writes v as indented JSON, the commands' --json output.
func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
