// Package dovecot starts a throwaway Dovecot IMAP server for tests, on a
// free loopback port with its own configuration, users and maildirs in a
// temporary directory (see shared/notes/dovecot-for-tests.md).
//
// Without a dovecot binary the tests skip, except under CI (CI set), where
// a missing Dovecot is a failure: the test command installs it.
package dovecot

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// T is what the harness needs of a test (T has it; the
// benchmark program provides its own).
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
	Cleanup(func())
}

// Server is a running test Dovecot.
type Server struct {
	Host    string
	Port    int // plain IMAP (STARTTLS offered when TLS is on)
	TLSPort int // implicit TLS, when started with StartTLS
	CAFile  string
	Root    string
	t       T
	bin     string
	cmd     *exec.Cmd
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Binary returns the dovecot binary's path, skipping the test when it is
// missing (failing under CI).
func Binary(t T) string {
	for _, p := range []string{"dovecot", "/usr/sbin/dovecot"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("dovecot is not installed: run scripts/test (it installs dovecot-imapd)")
	}
	t.Skip("dovecot is not installed (apt-get install -y dovecot-imapd, or run scripts/test)")
	return ""
}

// Start starts Dovecot with the given users (name → password) and stops
// it when the test ends.
func Start(t T, users map[string]string) *Server {
	return start(t, users, false)
}

// StartTLS is Start with TLS: STARTTLS on Port, implicit TLS on TLSPort,
// a self-signed certificate in CAFile.
func StartTLS(t T, users map[string]string) *Server {
	return start(t, users, true)
}

func start(t T, users map[string]string, withTLS bool) *Server {
	t.Helper()
	s := &Server{Host: "127.0.0.1", Port: FreePort(t), t: t, bin: Binary(t)}
	s.Root = t.TempDir()
	makeTraversable(t, s.Root)
	s.writeConfig(users)
	if withTLS {
		s.enableTLS()
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// FreePort returns a loopback TCP port free at the time of the call.
func FreePort(t T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// makeTraversable lets Dovecot's unprivileged users reach dir as root.
func makeTraversable(t T, dir string) {
	if os.Geteuid() != 0 {
		return
	}
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, st.Mode().Perm()|0o111)
	}
}

// identity returns the users Dovecot runs as and the mail owner's ids.
func identity(t T) (login, internal, group string, uid, gid string) {
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("looking up nobody: %v", err)
		}
		return "dovenull", "dovecot", "dovecot", nobody.Uid, nobody.Gid
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return me.Username, me.Username, g.Name, me.Uid, me.Gid
}

func (s *Server) writeConfig(users map[string]string) {
	login, internal, group, uid, gid := identity(s.t)
	conf := strings.NewReplacer("@ROOT@", s.Root, "@PORT@", strconv.Itoa(s.Port),
		"@LOGIN_USER@", login, "@INTERNAL_USER@", internal, "@INTERNAL_GROUP@", group,
		"@UID@", uid, "@GID@", gid).Replace(configTemplate)
	must(s.t, os.WriteFile(filepath.Join(s.Root, "dovecot.conf"), []byte(conf), 0o644))
	var b bytes.Buffer
	for name, pw := range users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", name, pw)
	}
	must(s.t, os.WriteFile(filepath.Join(s.Root, "users"), b.Bytes(), 0o644))
	mail := filepath.Join(s.Root, "mail")
	must(s.t, os.MkdirAll(mail, 0o755))
	if os.Geteuid() == 0 {
		u, _ := strconv.Atoi(uid)
		g, _ := strconv.Atoi(gid)
		must(s.t, os.Chown(mail, u, g))
	}
}

func (s *Server) start() {
	s.cmd = exec.Command(s.bin, "-F", "-c", filepath.Join(s.Root, "dovecot.conf"))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(s.Root, "dovecot.stdout"))
	must(s.t, err)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	must(s.t, s.cmd.Start())
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.Root, "dovecot.log"))
	so, _ := os.ReadFile(filepath.Join(s.Root, "dovecot.stdout"))
	s.t.Fatalf("dovecot did not listen on %s within 15s\n%s\n%s", s.Addr(), so, log)
}

// enableTLS turns on STARTTLS on the plain port and adds an implicit TLS
// listener.
func (s *Server) enableTLS() {
	cert, key := writeCert(s.t, s.Root)
	s.CAFile = cert
	s.TLSPort = FreePort(s.t)
	path := filepath.Join(s.Root, "dovecot.conf")
	conf, err := os.ReadFile(path)
	must(s.t, err)
	c := strings.Replace(string(conf), "ssl = no\n", "ssl = yes\nssl_cert = <"+cert+"\nssl_key = <"+key+"\n", 1)
	c = strings.Replace(c, "  inet_listener imaps {\n    port = 0\n  }",
		"  inet_listener imaps {\n    address = 127.0.0.1\n    port = "+strconv.Itoa(s.TLSPort)+"\n    ssl = yes\n  }", 1)
	must(s.t, os.WriteFile(path, []byte(c), 0o644))
}

// Stop stops Dovecot (SIGTERM to its process group) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

// Restart starts Dovecot again on the same port with the same mail.
func (s *Server) Restart() { s.start() }

// Client logs in as user with a plain loopback connection.
func (s *Server) Client(user, password string) *imapclient.Client {
	s.t.Helper()
	c, err := imapclient.DialInsecure(s.Addr(), nil)
	if err != nil {
		s.t.Fatalf("dialing dovecot: %v", err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		s.t.Fatalf("login %s: %v", user, err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Append appends raw messages to folder with c, creating it when missing.
func Append(t T, c *imapclient.Client, folder string, msgs ...[]byte) {
	t.Helper()
	AppendAt(t, c, folder, time.Time{}, msgs...)
}

// AppendAt appends msgs to folder with the given INTERNALDATE (zero: now),
// creating the folder when needed.
func AppendAt(t T, c *imapclient.Client, folder string, at time.Time, msgs ...[]byte) {
	t.Helper()
	if folder != "INBOX" {
		c.Create(folder, nil).Wait() // ALREADYEXISTS is fine
	}
	for _, m := range msgs {
		cmd := c.Append(folder, int64(len(m)), &imap.AppendOptions{Time: at})
		if _, err := cmd.Write(m); err != nil {
			t.Fatalf("append: %v", err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append: %v", err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
}

// Count returns the number of messages in folder (0 when it is missing).
func Count(t T, c *imapclient.Client, folder string) int {
	t.Helper()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0
	}
	return int(*st.NumMessages)
}

// UIDValidity returns folder's UIDVALIDITY.
func UIDValidity(t T, c *imapclient.Client, folder string) uint32 {
	t.Helper()
	st, err := c.Status(folder, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatalf("status %s: %v", folder, err)
	}
	return st.UIDValidity
}

// SetUIDValidity makes the server give user's folder the UIDVALIDITY v
// (doveadm mailbox update), as another server could have given it.
func (s *Server) SetUIDValidity(user, folder string, v uint32) {
	s.t.Helper()
	doveadm, err := exec.LookPath("doveadm") // dovecot-core's, beside dovecot (/usr/bin, not /usr/sbin)
	if err != nil {
		s.t.Fatalf("doveadm: %v", err)
	}
	out, err := exec.Command(doveadm, "-c", filepath.Join(s.Root, "dovecot.conf"), "mailbox", "update",
		"-u", user, "--uid-validity", strconv.FormatUint(uint64(v), 10), folder).CombinedOutput()
	if err != nil {
		s.t.Fatalf("doveadm mailbox update %s: %v\n%s", folder, err, out)
	}
}

func must(t T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const configTemplate = `protocols = imap
listen = 127.0.0.1
base_dir = @ROOT@/run
state_dir = @ROOT@/state
instance_name = dovecot-test-@PORT@
log_path = @ROOT@/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = @LOGIN_USER@
default_internal_user = @INTERNAL_USER@
default_internal_group = @INTERNAL_GROUP@
first_valid_uid = 1
mail_location = maildir:@ROOT@/mail/%u/Maildir
mail_uid = @UID@
mail_gid = @GID@
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = create
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u @ROOT@/users
}
userdb {
  driver = static
  args = uid=@UID@ gid=@GID@ home=@ROOT@/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = @PORT@
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
    user = @INTERNAL_USER@
  }
}
`
