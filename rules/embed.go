// Package rules embeds the example rules directories (ferrara, milano), so
// that the demo runs on them; offices keep their own under /etc/gatewayd.
package rules

import "embed"

// Examples holds ferrara/ and milano/.
//
//go:embed ferrara milano
var Examples embed.FS
