package verify

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// TestRelationAcrossSources: a relation from a MongoDB collection's
// (nested) field to a MySQL table's column, as an OpenIM 3.4 site has
// (msg documents' send_id to users.user_id), is checked over the two
// layouts: ObjectIds and integral doubles compare as the table holds them,
// missing and Null fields are not checked, a path through an array checks
// each element's value, and spilled runs (a 1 MiB
// sort budget over 60,000 values) give the same answer.
func TestRelationAcrossSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []spec.Source{{ID: "s0", Engine: "mysql", URL: "mysql://db:3306/openim"}, {ID: "s1", Engine: "mongodb", URL: "mongodb://db:27017/openim"}} {
		if err := w.AddSource(s); err != nil {
			t.Fatal(err)
		}
	}
	users := arrow.NewSchema([]arrow.Field{{Name: "user_id", Type: arrow.BinaryTypes.String}}, nil)
	dw, err := w.CreateDataset(spec.Dataset{Name: "openim.users", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"user_id"}}, users)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, users)
	oid := bson.NewObjectID()
	for _, u := range []string{"u1", "u2", "7", oid.Hex()} {
		b.Field(0).(*array.StringBuilder).Append(u)
	}
	write(t, dw, b.NewRecordBatch())
	b.Release()

	dw, err = w.CreateDataset(spec.Dataset{Name: "openim.msg", Source: "s1", Kind: spec.KindCollection, PrimaryKey: mongotype.PrimaryKey}, mongotype.Schema())
	if err != nil {
		t.Fatal(err)
	}
	mb := mongotype.NewBuilder(memory.DefaultAllocator)
	add := func(id int, send any) {
		doc := bson.D{{Key: "_id", Value: int64(id)}}
		if send != nil {
			doc = append(doc, bson.E{Key: "msg", Value: bson.D{{Key: "send_id", Value: send}}})
		}
		raw, err := bson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := mb.Append(raw); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for i := 0; i < 60000; i++ {
		add(n, []any{"u1", "u2", 7.0, oid}[i%4])
		n++
	}
	add(n, "ghost")
	add(n+1, int32(8))
	add(n+2, nil)
	add(n+3, bson.Null{})
	// An array on the path: each element's value is checked.
	raw, err := bson.Marshal(bson.D{{Key: "_id", Value: int64(n + 4)}, {Key: "msg", Value: bson.A{
		bson.D{{Key: "send_id", Value: "u1"}}, bson.D{{Key: "send_id", Value: "ghost2"}}, bson.D{{Key: "other", Value: 1}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Append(raw); err != nil {
		t.Fatal(err)
	}
	write(t, dw, mb.NewRecord())
	mb.Release()
	w.AddRelations(spec.Relation{From: spec.RelationEnd{Dataset: "openim.msg", Columns: []string{"msg.send_id"}}, To: spec.RelationEnd{Dataset: "openim.users", Columns: []string{"user_id"}}, Origin: spec.RelationDeclared})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, memory := range []int64{1 << 20, 64 << 20} {
		res, err := Relations(context.Background(), r, RelationOptions{TempDir: t.TempDir(), Memory: memory}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Values != 60004 || res[0].Orphans != 3 || strings.Join(res[0].First, " ") != `"8" "ghost" "ghost2"` {
			t.Errorf("sort memory %d: %+v, want 60004 values and the orphans 8, ghost and ghost2", memory, res)
		}
	}
}

func write(t *testing.T, dw *bundle.DatasetWriter, rec arrow.RecordBatch) {
	t.Helper()
	if err := dw.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
}
