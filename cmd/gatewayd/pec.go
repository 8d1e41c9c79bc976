package main

import (
	"fmt"
	"os"

	"gatewayd/internal/daemon"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

// pecChecker returns the PEC verifier for the rules; trustFile (PEM) adds
// anchors.
func pecChecker(r *rules.Rules, trustFile string) (triage.PECChecker, error) {
	if trustFile == "" {
		return daemon.PECChecker(r), nil
	}
	b, err := os.ReadFile(trustFile)
	if err != nil {
		return nil, fmt.Errorf("--pec-trust: %w", err)
	}
	certs, err := rules.ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("--pec-trust %s: %w", trustFile, err)
	}
	return daemon.PECChecker(r, certs...), nil
}
