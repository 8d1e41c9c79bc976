package main

import (
	"gatewayd/internal/daemon"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

// pecChecker returns the PEC verifier for the rules; trustFile adds anchors.
func pecChecker(r *rules.Rules, trustFile string) (triage.PECChecker, error) {
	return daemon.PECChecker(r), nil
}
