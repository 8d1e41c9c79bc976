package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/preflight"
	"gatewayd/internal/rules"
)

// cmdCheck reports every problem at once: the configuration's, the rules'
// and the templates', a state directory the daemon could not create or
// write, secret files others can read, a missing rules_dir; --connect logs
// in to every account too. Exit 78 for a problem in the files, 1 for a
// failed connection.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/gatewayd/gatewayd.yaml", "configuration file")
	rulesDir := fs.String("rules", "", "check only this rules directory (and its templates)")
	connect := fs.Bool("connect", false, "log in to every IMAP and SMTP account and list the folders each mailbox uses")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gatewayd check: unexpected argument %q\n", fs.Arg(0))
		return exitBadConfig
	}
	if *rulesDir != "" {
		if configSet(fs) {
			fmt.Fprintln(stderr, "gatewayd check: --rules checks a rules directory on its own; --config checks the configuration with the rules it names: give one")
			return exitBadConfig
		}
		return checkRules(*rulesDir, stdout, stderr)
	}
	cfg, f := checkFiles(*path)
	for _, e := range f.Errors {
		fmt.Fprintln(stderr, e)
	}
	for _, w := range f.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if len(f.Errors) > 0 {
		return exitBadConfig
	}
	if *connect && preflight.Connect(context.Background(), cfg, stdout) > 0 {
		fmt.Fprintf(stderr, "%s: the files are right, but not every account or folder is (see above)\n", cfg.File)
		return exitFailure
	}
	rules := "no rules_dir"
	if cfg.RulesDir != "" {
		rules = "rules " + cfg.RulesDir
	}
	fmt.Fprintf(stdout, "%s: ok (%d mailboxes, %s, state %s)\n", cfg.File, len(cfg.Mailboxes), rules, cfg.StateDir)
	return exitOK
}

// checkFiles checks the configuration file, the rules and templates it
// names, the state directory and the secrets, as far as each can be read.
func checkFiles(path string) (*config.Config, preflight.Findings) {
	var f preflight.Findings
	cfg, err := config.LoadAll(path)
	f.Errors = appendProblems(f.Errors, err)
	if cfg == nil {
		return nil, f
	}
	if err == nil {
		var r *rules.Rules
		r, _, err = daemon.LoadOffice(cfg) // the rules against the configuration
		if w := noLadders(r, cfg.RulesDir); w != "" {
			f.Warnings = append(f.Warnings, config.Error{Msg: w})
		}
	} else if isDir(cfg.RulesDir) {
		_, _, err = daemon.LoadRulesDir(cfg.RulesDir) // on their own: the configuration is wrong
	} else {
		err = nil
	}
	f.Errors = appendProblems(f.Errors, err)
	files := preflight.Files(cfg)
	f.Errors = append(f.Errors, files.Errors...)
	f.Warnings = append(f.Warnings, files.Warnings...)
	return cfg, f
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// checkRules checks a rules directory and its templates on their own.
func checkRules(dir string, stdout, stderr io.Writer) int {
	r, _, err := daemon.LoadRulesDir(dir)
	if err != nil {
		for _, e := range appendProblems(nil, err) {
			fmt.Fprintln(stderr, e)
		}
		return exitBadConfig
	}
	if w := noLadders(r, dir); w != "" {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok (%s, %d mailboxes)\n", dir, r.Office.Name, len(r.Mailboxes))
	return exitOK
}

// noLadders warns of rules without scadenze.yaml (optional): their cases
// get no solleciti and no escalations.
func noLadders(r *rules.Rules, dir string) string {
	if r == nil || r.Deadlines != nil {
		return ""
	}
	return fmt.Sprintf("%s: no %s: cases get no solleciti and no escalations", dir, rules.FileScadenze)
}

// configSet reports whether --config was given.
func configSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "config" })
	return set
}

// appendProblems adds the problems of err, one per configuration error.
func appendProblems(errs config.Errors, err error) config.Errors {
	if err == nil {
		return errs
	}
	if es, ok := err.(config.Errors); ok {
		return append(errs, es...)
	}
	return append(errs, config.Error{Msg: err.Error()})
}
