// Package memimap runs go-imap's in-memory IMAP server on a loopback port,
// for the demo and for fast tests. It is not for production mail.
package memimap

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Server is a running in-memory IMAP server.
type Server struct {
	Addr  string
	srv   *imapserver.Server
	mem   *imapmemserver.Server
	users map[string]*imapmemserver.User
	ln    net.Listener
}

// Options choose what the server advertises.
type Options struct {
	NoMove bool // advertise neither MOVE nor UIDPLUS (clients must fall back)
	// NoBody, when set, leaves out of a FETCH of bodies the messages whose
	// UID it names (a server's fault: they are still there).
	NoBody func(imap.UID) bool
	// Gone, when set, makes them vanish once a FETCH of bodies left them
	// out: later FETCHes and UID SEARCH do not show them either, as if
	// another client had expunged them between the listing and the fetch.
	Gone bool
}

// Start listens on 127.0.0.1 (a free port) and serves until Close.
func Start(o Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	s := &Server{Addr: ln.Addr().String(), mem: imapmemserver.New(), users: map[string]*imapmemserver.User{}, ln: ln}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	if o.NoMove {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}}
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if o.NoBody != nil {
				return &bodiless{Session: s.mem.NewSession(), skip: o.NoBody, gone: o.Gone}, nil, nil
			}
			return s.mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	go s.srv.Serve(ln)
	return s, nil
}

// AddUser creates a user with an INBOX.
func (s *Server) AddUser(name, password string) error {
	u := imapmemserver.NewUser(name, password)
	if err := u.Create("Sent", nil); err != nil {
		return err
	}
	if err := u.Create("INBOX", nil); err != nil {
		return err
	}
	s.mem.AddUser(u)
	s.users[name] = u
	return nil
}

// Append adds a raw message to a user's folder, dated now.
func (s *Server) Append(user, folder string, raw []byte) error {
	return s.AppendAt(user, folder, raw, time.Time{})
}

// AppendAt adds a raw message with its INTERNALDATE (zero: now), as a
// server files a message sent at that time.
func (s *Server) AppendAt(user, folder string, raw []byte, at time.Time) error {
	u := s.users[user]
	if u == nil {
		return errors.New("no such user")
	}
	_, err := u.Append(folder, &literal{data: raw}, &imap.AppendOptions{Time: at})
	return err
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

type literal struct {
	data []byte
	off  int
}

func (l *literal) Read(p []byte) (int, error) {
	if l.off >= len(l.data) {
		return 0, io.EOF
	}
	n := copy(p, l.data[l.off:])
	l.off += n
	return n, nil
}

func (l *literal) Size() int64 { return int64(len(l.data)) }

// bodiless is a session whose FETCH of bodies leaves some UIDs out.
type bodiless struct {
	imapserver.Session
	skip   func(imap.UID) bool
	gone   bool              // vanish once a body FETCH left them out
	hidden map[imap.UID]bool // those that vanished
}

// visible drops from set the UIDs to leave out (nil: none left).
func (b *bodiless) visible(set imap.UIDSet, out func(imap.UID) bool) (imap.UIDSet, bool) {
	uids, ok := set.Nums()
	if !ok {
		return set, true
	}
	var kept imap.UIDSet
	for _, u := range uids {
		if !out(u) {
			kept.AddNum(u)
		}
	}
	return kept, len(kept) > 0
}

func (b *bodiless) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	data, err := b.Session.Search(kind, criteria, options)
	if err != nil || !b.gone || kind != imapserver.NumKindUID {
		return data, err
	}
	var kept imap.UIDSet
	for _, u := range data.AllUIDs() {
		if !b.hidden[u] {
			kept.AddNum(u)
		}
	}
	data.All = kept
	return data, nil
}

func (b *bodiless) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if set, ok := numSet.(imap.UIDSet); ok {
		out := func(u imap.UID) bool { return b.hidden[u] }
		if len(options.BodySection) > 0 {
			out = func(u imap.UID) bool {
				if b.skip(u) && b.gone {
					if b.hidden == nil {
						b.hidden = map[imap.UID]bool{}
					}
					b.hidden[u] = true
				}
				return b.skip(u) || b.hidden[u]
			}
		}
		kept, any := b.visible(set, out)
		if !any {
			return nil
		}
		numSet = kept
	}
	return b.Session.Fetch(w, numSet, options)
}

func (b *bodiless) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return b.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

func (b *bodiless) Namespace() (*imap.NamespaceData, error) {
	return b.Session.(imapserver.SessionNamespace).Namespace()
}
