// Package smtpsink is an SMTP server on loopback that records what it
// receives (go-smtp's server), for the demo and the tests. It can be told
// to refuse mail, temporarily or for good, and to pass each message on.
package smtpsink

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the sink accepted.
type Received struct {
	From string
	To   []string
	Raw  []byte
}

// Sink is a running recording SMTP server.
type Sink struct {
	Addr    string
	srv     *smtp.Server
	mu      sync.Mutex
	msgs    []Received
	reject  *smtp.SMTPError
	Deliver func(Received) // called for each accepted message, if set
	opts    Options
}

// Options make the sink speak TLS and require AUTH PLAIN.
type Options struct {
	TLS      *tls.Config // nil: plain; else STARTTLS is offered
	Implicit bool        // TLS from the first byte (port 465 style)
	User     string      // non-empty: AUTH PLAIN with User and Password is required
	Password string
}

// Start listens on a free loopback port, plain, without AUTH.
func Start() (*Sink, error) { return StartWith(Options{}) }

// StartWith listens on a free loopback port with o.
func StartWith(o Options) (*Sink, error) {
	var ln net.Listener
	var err error
	if o.Implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", o.TLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	s := &Sink{Addr: ln.Addr().String(), opts: o}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	if !o.Implicit {
		s.srv.TLSConfig = o.TLS
	}
	s.srv.Domain = "sink.localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = log.New(io.Discard, "", 0) // clients killed mid-session are expected in tests
	go s.srv.Serve(ln)
	return s, nil
}

// Reject makes every following RCPT fail with code (4xx: temporary, 5xx:
// permanent); 0 accepts again.
func (s *Sink) Reject(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.reject = nil
		return
	}
	s.reject = &smtp.SMTPError{Code: code, Message: "refused by the test sink"}
}

// Messages returns what was received so far.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Close stops the server.
func (s *Sink) Close() error { return s.srv.Close() }

type session struct {
	s      *Sink
	from   string
	to     []string
	authed bool
}

// AuthMechanisms offers PLAIN when the sink requires AUTH.
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks AUTH PLAIN against the sink's account.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.s.opts.User || pass != ss.s.opts.Password {
			return &smtp.SMTPError{Code: 535, Message: "bad credentials"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.User != "" && !ss.authed {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	rej := ss.s.reject
	ss.s.mu.Unlock()
	if rej != nil {
		return rej
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Received{From: ss.from, To: ss.to, Raw: raw}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	deliver := ss.s.Deliver
	ss.s.mu.Unlock()
	if deliver != nil {
		deliver(m)
	}
	return nil
}
