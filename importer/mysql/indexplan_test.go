package mysql

import (
	"context"
	"net/url"
	"testing"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/spec"
)

// TestDefersBySize: the strategy is taken from the manifest's row count
// under auto (the default), and forced either way by true and false; any
// other value is a usage error before anything connects.
func TestDefersBySize(t *testing.T) {
	item := func(rows int64) *importer.Item { return &importer.Item{Dataset: &spec.Dataset{Rows: rows}} }
	for _, c := range []struct {
		param string
		rows  int64
		want  bool
	}{
		{"", 0, false}, {"", deferRows - 1, false}, {"", deferRows, true}, {"", 2_000_000, true},
		{"auto", deferRows - 1, false}, {"auto", deferRows, true},
		{"true", 0, true}, {"true", 10, true},
		{"false", deferRows, false}, {"false", 2_000_000, false},
	} {
		tg := &Target{deferIndexes: deferAuto}
		if c.param != "" {
			tg.deferIndexes = c.param
		}
		if got := tg.defers(item(c.rows)); got != c.want {
			t.Errorf("defer-indexes=%q, %d rows: defers %v, want %v", c.param, c.rows, got, c.want)
		}
	}
	u, _ := url.Parse("mysql://root@127.0.0.1:1/db")
	if _, err := open(context.Background(), u, importer.Options{Params: map[string]string{"defer-indexes": "sometimes"}}); err == nil {
		t.Error("defer-indexes=sometimes accepted")
	}
}
