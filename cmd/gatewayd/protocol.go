package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"gatewayd/internal/answer"
	"gatewayd/internal/clock"
	"gatewayd/internal/daemon"
	"gatewayd/internal/register"
	"gatewayd/internal/store"
)

const protocolUsage = `usage: gatewayd protocol --config FILE <verb>
  show NUMBER                       a registration, its annulment and amendments
  annul NUMBER --reason TEXT --provvedimento REF [--by NAME]
                                    annul a registration (DPR 445/2000 art. 54); the sender is told
  amend NUMBER (--sender ADDR | --subject TEXT) --reason TEXT [--by NAME]
                                    correct the sender or subject, the old value kept
  start-at N                        the first live number of this year is N (to go on with a register kept before)
`

// cmdProtocol works on the protocol register: gatewayd protocol --config
// FILE show|annul|amend|start-at.
func cmdProtocol(args []string, stdout, stderr io.Writer) int {
	if helpAsked(args) {
		fmt.Fprint(stdout, protocolUsage)
		return exitOK
	}
	cfg, rest := loadConfig("protocol", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	if len(rest) < 2 {
		fmt.Fprint(stderr, protocolUsage)
		return exitBadConfig
	}
	verb, number := rest[0], rest[1]
	fs := flag.NewFlagSet("protocol "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	reason := fs.String("reason", "", "why (recorded)")
	act := fs.String("provvedimento", "", "the act that authorises the annulment")
	by := fs.String("by", operator(), "who does it (recorded)")
	sender := fs.String("sender", "", "amend: the corrected sender")
	subject := fs.String("subject", "", "amend: the corrected subject")
	if fs.Parse(rest[2:]) != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, protocolUsage)
		return exitBadConfig
	}
	if msg := protocolArgs(verb, number, *reason, *act, *sender, *subject); msg != "" {
		fmt.Fprintf(stderr, "gatewayd protocol %s: %s\n%s", verb, msg, protocolUsage)
		return exitBadConfig
	}
	ctx := context.Background()
	if verb == "show" {
		return showRegistration(cfg.StateDir, number, stdout, stderr)
	}
	r, t, err := daemon.LoadOffice(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	ct, err := store.OpenCaseTool(cfg.StateDir, nil)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd protocol:", err)
		return exitFailure
	}
	defer ct.Close()
	var office *answer.Office
	if r != nil {
		office = &answer.Office{Rules: r, Templates: t}
	}
	var done string
	err = ct.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		switch verb {
		case "annul":
			inforce, err := inForce(ctx, tx, cfg)
			if err != nil {
				return err
			}
			reg, err := register.Annul(ctx, tx, office, inforce, register.Annulment{Protocol: number, By: *by, Reason: *reason, Provvedimento: *act})
			done = fmt.Sprintf("protocol %s annulled", reg.Label)
			return err
		case "amend":
			field, value := "sender", *sender
			if *subject != "" {
				field, value = "subject", *subject
			}
			if (*sender == "") == (*subject == "") {
				return fmt.Errorf("give --sender or --subject")
			}
			reg, err := tx.Amend(ctx, number, field, value, *by, *reason)
			done = fmt.Sprintf("protocol %s amended: %s %q", reg.Label, field, value)
			return err
		case "start-at":
			n, err := strconv.Atoi(number)
			if err != nil {
				return fmt.Errorf("start-at %q: give a number", number)
			}
			done = fmt.Sprintf("the next number of %d is %d", tx.Now().In(clock.Rome).Year(), n)
			return tx.StartAt(ctx, cfg.Office.Code, n)
		}
		return fmt.Errorf("unknown verb %q", verb)
	})
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd protocol:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, done)
	return exitOK
}

// protocolArgs says what is wrong with a verb's arguments ("": nothing):
// usage errors, told before anything is opened.
func protocolArgs(verb, number, reason, act, sender, subject string) string {
	switch verb {
	case "show":
	case "annul":
		if strings.TrimSpace(reason) == "" || strings.TrimSpace(act) == "" {
			return "give --reason and --provvedimento"
		}
	case "amend":
		if (sender == "") == (subject == "") || strings.TrimSpace(reason) == "" {
			return "give --sender or --subject, and --reason"
		}
	case "start-at":
		if n, err := strconv.Atoi(number); err != nil || n < 1 {
			return fmt.Sprintf("%q: give the first number, 1 or more", number)
		}
	default:
		return fmt.Sprintf("unknown verb %q", verb)
	}
	return ""
}

// showRegistration prints a registration as the register holds it.
func showRegistration(stateDir, label string, stdout, stderr io.Writer) int {
	rd, err := store.OpenReader(stateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd protocol:", err)
		return exitFailure
	}
	defer rd.Close()
	r, err := rd.Registration(context.Background(), label)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd protocol:", err)
		return exitFailure
	}
	at := func(t time.Time) string { return t.In(clock.Rome).Format("2006-01-02 15:04:05 MST") }
	fmt.Fprintf(stdout, "protocol:    %s (register %s, %d no. %d)\nregistered:  %s\nmailbox:     %s\nsender:      %s\nsubject:     %s\n"+
		"sender date: %s\nsender ref:  %s\nsha256:      %s\n", r.Label, r.Register, r.Year, r.Number, at(r.At), r.Mailbox,
		r.Sender, r.Subject, dash(r.SenderDate), dash(r.SenderRef), r.SHA256)
	for _, a := range r.Amendments {
		fmt.Fprintf(stdout, "amended:     %s by %s: %s %q → %q (%s)\n", at(a.At), a.By, a.Field, a.Old, a.New, a.Reason)
	}
	if a := r.Annulment; a != nil {
		fmt.Fprintf(stdout, "ANNULLED:    %s by %s: %s (provvedimento: %s)\n", at(a.At), a.By, a.Reason, a.Provvedimento)
	}
	return exitOK
}

// operator is who runs the command: the user behind sudo, else the user.
func operator() string {
	if u := os.Getenv("SUDO_USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "operator"
}

// helpAsked reports whether the arguments ask for help.
func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" || a == "help" {
			return true
		}
	}
	return false
}
