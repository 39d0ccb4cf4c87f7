package web

import (
	"context"
	"log/slog"

	"puente/internal/node"
)

// OpenNode opens the node in dir with its web handler attached, ready for
// Run.
func OpenNode(ctx context.Context, dir string, log *slog.Logger) (*node.Node, error) {
	n, err := node.Open(ctx, dir, log)
	if err != nil {
		return nil, err
	}
	srv, err := New(n)
	if err != nil {
		n.Close()
		return nil, err
	}
	n.WebHandler = srv
	return n, nil
}
