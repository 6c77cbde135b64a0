package redis

import (
	"fmt"
	"testing"

	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func TestGroupByExpiry(t *testing.T) {
	fs := []fieldTTL{{[]byte("a"), 30}, {[]byte("b"), 10}, {[]byte("c"), 30}, {[]byte("d"), 30}, {[]byte("e"), 10}}
	var got []string
	for _, g := range groupByExpiry(fs, 2) {
		got = append(got, fmt.Sprintf("%d:%s", g.exp, g.fields))
	}
	// Earliest first, input order within a time, at most 2 per command.
	if want := "[10:[b e] 30:[a c] 30:[d]]"; fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if len(groupByExpiry(nil, 2)) != 0 {
		t.Fatal("groups of nothing")
	}
}

func TestHasCommand(t *testing.T) {
	known := resp.Value{Kind: resp.KindArray, Elems: []resp.Value{{Kind: resp.KindArray, Elems: []resp.Value{{Kind: resp.KindBulk, Str: []byte("hpexpireat")}}}}}
	unknown := resp.Value{Kind: resp.KindArray, Elems: []resp.Value{{Kind: resp.KindNil}}} // Redis 7.0, Kvrocks
	if !hasCommand(known) || hasCommand(unknown) || hasCommand(resp.Value{Kind: resp.KindError, Str: []byte("ERR unknown command 'COMMAND'")}) {
		t.Fatal("hasCommand")
	}
}
