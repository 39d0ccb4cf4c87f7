package store

import (
	"context"
	"errors"
)

// A Fence guards the writes of work that must run on one replica of a node
// at a time: the delivery worker, the trust loop, the areas' scheduled
// workers. Several `puente serve` processes may share one PostgreSQL
// database; one of them holds the lease to do that work (package replica),
// and every write made under a context carrying its Fence (WithFence)
// first checks, inside the same transaction, that the lease is still held.
// A replica that lost its lease, say after being paused past its expiry,
// can therefore never write as the leader again.
type Fence interface {
	// Check fails with ErrNotLeader unless the lease is still held; it
	// keeps the lease from passing to another replica until tx ends.
	Check(ctx context.Context, tx *Tx) error
	// Held reports, without asking the database, whether the lease may
	// still be held: false once its time has run out on this replica's
	// own clock.
	Held() bool
	// Epoch numbers the lease's term: it rises with every handover.
	Epoch() int64
}

// ErrNotLeader is a leader-only write refused because this replica no
// longer holds the node's lease.
var ErrNotLeader = errors.New("this replica no longer leads the node: the write is refused")

type fenceKey struct{}

// WithFence returns ctx carrying f: every ReadWrite under it checks f.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf returns the fence ctx carries, or nil.
func FenceOf(ctx context.Context) Fence {
	f, _ := ctx.Value(fenceKey{}).(Fence)
	return f
}

// Leading reports whether work under ctx may go on: true without a fence
// (a single process, a request), else whether the fence may still be
// held. Workers look before acting outside the store (sending to the
// partner), where no transaction can check for them.
func Leading(ctx context.Context) bool {
	f := FenceOf(ctx)
	return f == nil || f.Held()
}

// EpochOf is the term of the fence ctx carries, or 0 without one.
func EpochOf(ctx context.Context) int64 {
	if f := FenceOf(ctx); f != nil {
		return f.Epoch()
	}
	return 0
}

// fenced wraps f so that it first checks the fence ctx carries, once per
// transaction.
func fenced(ctx context.Context, f func(ctx context.Context, tx *Tx) error) func(ctx context.Context, tx *Tx) error {
	fe := FenceOf(ctx)
	if fe == nil {
		return f
	}
	return func(ctx context.Context, tx *Tx) error {
		key := fenceKey{}
		if tx.Memo(key) != fe {
			if err := fe.Check(ctx, tx); err != nil {
				return err
			}
			tx.SetMemo(key, fe)
		}
		return f(ctx, tx)
	}
}
