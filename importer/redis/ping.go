package redis

import (
	"context"

	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// Ping connects and authenticates once (importer.Pinger): Open only parses
// the URL, and the pools dial on the first part.
func (t *Target) Ping(ctx context.Context) error {
	c, err := resp.Dial(ctx, t.conn)
	if err != nil {
		return err
	}
	return c.Close()
}
