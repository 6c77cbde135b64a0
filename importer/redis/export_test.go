package redis

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/imbundle/imbundle/importer"
)

// SetClock replaces the import clock (expiry decisions).
func SetClock(t importer.Target, now func() time.Time) { t.(*Target).now = now }

// FailAfterParts makes LoadPart fail once n parts have loaded, as an
// interrupted import would: nothing is finished, the marker stays.
func FailAfterParts(t importer.Target, n int64) {
	tg := t.(*Target)
	var done atomic.Int64
	tg.afterPart = func(ctx context.Context) error {
		if done.Add(1) > n {
			return errors.New("simulated interruption")
		}
		return nil
	}
}
