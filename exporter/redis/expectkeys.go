package redis

import (
	"context"

	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// expectKeys tells the export's progress the keys of database db
// (DBSIZE), the total its bar counts towards: the keys of the keyspace
// dataset when the export began, a count, not an estimate. Keys written or
// deleted while SCAN runs move the final count, which the bar then shows.
// A --match or --key-prefix export writes only some of them: DBSIZE says
// nothing of how many, so its bar has no total. The stream-state dataset
// counts no keys of its own (internal/records). A DBSIZE that fails
// leaves the bar without a total; the read itself reports the error.
func (s *Source) expectKeys(ctx context.Context, c *resp.Conn, db int) {
	prog := s.opts.Progress
	if prog == nil {
		return
	}
	prog.Expect(StateDatasetName(db), 0, 0)
	if s.match != "" || len(s.prefix) > 0 {
		return
	}
	if err := c.Select(ctx, db); err != nil {
		return
	}
	if v, err := c.Do(ctx, "DBSIZE"); err == nil && v.Kind == resp.KindInt {
		prog.Expect(DatasetName(db), v.Int, 0)
	}
}
