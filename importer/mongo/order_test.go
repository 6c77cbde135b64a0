package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/mongotype"
)

func TestOrderIndexesTTLLast(t *testing.T) {
	mk := func(name string, ttl bool) bson.Raw {
		d := bson.D{{Key: "key", Value: bson.D{{Key: name, Value: 1}}}, {Key: "name", Value: name}}
		if ttl {
			d = append(d, bson.E{Key: "expireAfterSeconds", Value: int32(60)})
		}
		b, _ := bson.Marshal(d)
		return b
	}
	in := []bson.Raw{mk("_id_", false), mk("t1", true), mk("a", false), mk("t2", true), mk("b", false)}
	var got []string
	for _, ix := range OrderIndexes(in) {
		got = append(got, mongotype.IndexName(ix))
	}
	want := []string{"a", "b", "t1", "t2"}
	if len(got) != len(want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
