package durable

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFile: the file has its content and mode whatever the umask,
// replaces an older one, and leaves no temporary file behind.
func TestWriteFile(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "f.csv")
	for _, content := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		st, _ := os.Stat(path)
		if string(b) != content || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %q, mode %v", path, b, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in %s, want only the file", len(entries), dir)
	}
	if err := WriteFile(filepath.Join(path, "under-a-file"), []byte("x"), 0o600); err == nil {
		t.Error("writing under a file succeeded")
	}
}
