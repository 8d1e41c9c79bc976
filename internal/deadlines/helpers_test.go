package deadlines_test

import (
	"os"
	"path/filepath"

	"gatewayd/internal/testenv/gateway"
)

// copyRules copies rules/NAME to dir.
func copyRules(dir, name string) error {
	return os.CopyFS(dir, os.DirFS(filepath.Join(gateway.Root(), "rules", name)))
}
