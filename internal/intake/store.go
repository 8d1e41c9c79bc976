package intake

import (
	"context"
	"time"

	"gatewayd/internal/spool"
	"gatewayd/internal/store"
)

// Store is what intake needs of the store: the mailbox's sync state, the
// moves still to do, and one transaction per batch.
type Store interface {
	MailboxState(ctx context.Context, mailbox string) (store.MailboxState, error)
	SetFolder(ctx context.Context, mailbox string, f store.Folder, uidNext uint32) (bool, error)
	RecordFailure(ctx context.Context, mailbox string, attempts int, next time.Time, cause error) error
	RecordSuccess(ctx context.Context, mailbox string) error
	PendingMoves(ctx context.Context, mailbox string, f store.Folder) ([]store.PendingMove, error)
	MarkMoved(ctx context.Context, mailbox string, f store.Folder, uids []uint32, dest string) error
	ForgetUIDs(ctx context.Context, mailbox string, f store.Folder, why string) error
	DropPendingMoves(ctx context.Context, mailbox string, current store.Folder) (int, error)
	Ingest(ctx context.Context, mailbox string, f store.Folder, seg *spool.Segment, items []store.Item, mails store.FollowupFunc) ([]store.Result, error)
	Spool() *spool.Spool
	CaseOf(ctx context.Context, ids, protocols []string) (store.Case, bool, error)
}
