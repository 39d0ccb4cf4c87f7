package web

import (
	"context"
	"log/slog"

	"puente/internal/node"
)

// OpenNode opens the node in dir under cfg (nil: its puente.json) with its
// web handler attached, ready for Run.
func OpenNode(ctx context.Context, dir string, cfg *node.Config, log *slog.Logger) (*node.Node, error) {
	n, err := node.Open(ctx, dir, cfg, log)
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
