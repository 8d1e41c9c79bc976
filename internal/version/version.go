// Package version says which build of gatewayd is running: the module's
// version and the VCS revision, time and modified flag that the go command
// stamps into the binary (debug.ReadBuildInfo).
package version

import (
	"runtime/debug"
	"strings"
)

// Info is what the build says of itself.
type Info struct {
	Module   string // the main module's version; "(devel)" when built from a work tree
	Revision string // vcs.revision; empty when unknown (go run, tests)
	Time     string // vcs.time, RFC 3339
	Modified bool   // vcs.modified: built with uncommitted changes
	Go       string // the Go toolchain
}

// Read returns the build's information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Module: "(devel)"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Module: bi.Main.Version, Go: bi.GoVersion}
	if i.Module == "" {
		i.Module = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is the long form: "v1.2.0 (revision 65f63fe…, 2026-12-04T10:00:00Z, modified) go1.26.8".
func (i Info) String() string {
	var details []string
	if i.Revision != "" {
		details = append(details, "revision "+i.Revision)
	}
	if i.Time != "" {
		details = append(details, i.Time)
	}
	if i.Modified {
		details = append(details, "modified")
	}
	s := i.Module
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	if i.Go != "" {
		s += " " + i.Go
	}
	return s
}

// Short is the module's version with the revision's first 12 characters,
// for the start-up log line: "(devel)+65f63fe1234a-modified".
func Short() string {
	i := Read()
	s := i.Module
	if i.Revision != "" {
		s += "+" + i.Revision[:min(12, len(i.Revision))]
	}
	if i.Modified {
		s += "-modified"
	}
	return s
}
