package version

import (
	"runtime/debug"
	"testing"
)

func TestInfo_String(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "gatewayd", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "65f63fe0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-04T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	want := "v1.2.0 (revision 65f63fe0123456789abcdef, 2026-12-04T10:00:00Z, modified) go1.26.8"
	if got := fromBuildInfo(bi).String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.8"}
	if got := fromBuildInfo(bare).String(); got != "(devel) go1.26.8" {
		t.Errorf("String() without VCS = %q, want %q", got, "(devel) go1.26.8")
	}
}
