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
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // Europe/Rome without depending on the host's zoneinfo

	"gatewayd/internal/answer"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/demo"
	"gatewayd/internal/report"
	"gatewayd/internal/rules"
	"gatewayd/internal/sdnotify"
	"gatewayd/internal/store"
)

// Exit codes: 2 means bad configuration (systemd does not restart on it).
const (
	exitOK        = 0
	exitFailure   = 1
	exitBadConfig = 2
)

const usage = `usage: gatewayd <command> [flags]

commands:
  run      --config FILE [--shadow]
                           run the daemon (--shadow: record everything, send no answer)
  check    --config FILE | --rules DIR
                           check the configuration (and its rules), print every problem
  triage   --rules DIR --mailbox ADDRESS [--at RFC3339] [--pec-trust PEMFILE] FILE.eml
                           decide on one message as the daemon would; JSON on stdout
  deadlines --rules DIR --mailbox ADDRESS --at RFC3339
                           the due date and every step of the mailbox's ladder; JSON on stdout
  cases    --config FILE list [--mailbox NAME] [--state open|overdue|waiting|closed] [--json]
                           the cases: due date, state, ladder level, next step
  case     --config FILE show PROTOCOL | close PROTOCOL --outcome answered|unsatisfactory|withdrawn
           | wait PROTOCOL | forward PROTOCOL
                           a case's timeline; close it; put it on the professional; forward to the region
  outbox   --config FILE list [STATE] | show ID | retry ID | release --held
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
  show     --config FILE PROTOCOL|MESSAGE-ID|ID
                           show what is recorded of a message: every step, with its time
  demo                     run a local demo on embedded sample mails
  version                  print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadConfig
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
	case "case":
		return cmdCase(args[1:], stdout, stderr)
	case "redecide":
		return cmdRedecide(args[1:], stdout, stderr)
	case "accept":
		return cmdAccept(args[1:], stdout, stderr)
	case "protocol":
		return cmdProtocol(args[1:], stdout, stderr)
	case "registro":
		return cmdRegistro(args[1:], stdout, stderr)
	case "outbox":
		return cmdOutbox(args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "gatewayd", version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "gatewayd: unknown command %q\n%s", args[0], usage)
	return exitBadConfig
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
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
	cfg, err := config.Load(*path)
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

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "--rules" || len(args) == 1 && strings.HasPrefix(args[0], "--rules=") {
		dir := strings.TrimPrefix(args[len(args)-1], "--rules=")
		r, err := rules.Load(dir)
		_, terr := answer.Load(os.DirFS(dir), "templates", filepath.Join(dir, "templates"), r.LadderTemplates()...)
		if err != nil || terr != nil {
			for _, e := range []error{err, terr} {
				if e != nil {
					fmt.Fprintln(stderr, e)
				}
			}
			return exitBadConfig
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %d mailboxes)\n", dir, r.Office.Name, len(r.Mailboxes))
		return exitOK
	}
	cfg, _ := loadConfig("check", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	r, _, err := daemon.LoadOffice(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	if r == nil {
		fmt.Fprintf(stdout, "%s: ok (%d mailboxes; no rules_dir: every well-formed message is accepted)\n", cfg.File, len(cfg.Mailboxes))
		return exitOK
	}
	fmt.Fprintf(stdout, "%s: ok (%d mailboxes, rules %s)\n", cfg.File, len(cfg.Mailboxes), cfg.RulesDir)
	return exitOK
}

func cmdRun(args []string, stderr io.Writer) int {
	cfg, _ := loadConfig("run", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	log := daemon.NewLogger(stderr, cfg.Log)
	d := &daemon.Daemon{Config: cfg, Log: log}
	if v := os.Getenv("GATEWAYD_CLOCK"); v != "" { // drills and tests: run as if it were that time
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			fmt.Fprintf(stderr, "GATEWAYD_CLOCK %q: %v\n", v, err)
			return exitBadConfig
		}
		clk := &clock.Shifted{}
		clk.JumpTo(t)
		d.Now = clk.Now
		log.Warn("the clock is shifted: the daemon runs as if it were another time", "now", t)
	}
	ctx, stop := signalContext(log.Info, func() {
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
	ctx, stop := signalContext(func(string, ...any) {}, func() {})
	defer stop()
	if err := demo.Run(ctx, demo.Options{Out: stdout, Log: stderr, StateDir: *keep, Verbose: *verbose}); err != nil {
		fmt.Fprintln(stderr, "gatewayd demo:", err)
		return exitFailure
	}
	return exitOK
}

// signalContext is cancelled by SIGTERM or SIGINT; a second signal exits at
// once. SIGHUP calls reload.
func signalContext(logf func(string, ...any), reload func()) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		stopping := false
		for sig := range ch {
			switch {
			case sig == syscall.SIGHUP:
				logf("SIGHUP: reloading the rules")
				reload()
			case stopping:
				logf("second signal: exiting now", "signal", sig.String())
				os.Exit(exitFailure)
			default:
				stopping = true
				logf("signal received: finishing the batch in hand, then stopping", "signal", sig.String())
				cancel()
				go func() { // a stuck shutdown must not outlive systemd's patience
					time.Sleep(60 * time.Second)
					logf("shutdown took over 60s: exiting")
					os.Exit(exitFailure)
				}()
			}
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
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
