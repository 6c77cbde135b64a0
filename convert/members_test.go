package convert

import (
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

// idBatches are batches of int64 ids from..to-1, size rows each.
func idBatches(from, to, size int64) []arrow.RecordBatch {
	s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var out []arrow.RecordBatch
	for a := from; a < to; a += size {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		for i := a; i < min(a+size, to); i++ {
			b.Append(i)
		}
		col := b.NewArray()
		out = append(out, array.NewRecordBatch(s, []arrow.Array{col}, int64(col.Len())))
	}
	return out
}

// Each member output keeps exactly its rows: members of 7, 0 and 8 rows
// over two parts of 9 and 6 rows, in batches of 4; the outputs of parts
// that hold none of a member's rows read nothing of them.
func TestMembersSplitRowsByPosition(t *testing.T) {
	ds := &spec.Dataset{Name: "db.m", Namespace: "db", Object: "m", Rows: 15,
		Parts:   []spec.Part{{Rows: 9}, {Rows: 6}},
		Members: []spec.Member{{Object: "m_0", Rows: 7}, {Object: "m_1", Rows: 0}, {Object: "m_2", Rows: 8}}}
	c := Members(ds, &spec.Source{Engine: "mysql"})
	if len(c.Split) != 3 || len(c.Refused) > 0 || c.Split[2].Dataset.Object != "m_2" || c.Split[2].Dataset.Rows != 8 {
		t.Fatalf("conversion %+v", c)
	}
	parts := [][2]int64{{0, 9}, {9, 15}}
	for k, want := range []string{"[0 1 2 3 4 5 6]", "[]", "[7 8 9 10 11 12 13 14]"} {
		var got []int64
		for p, pr := range parts {
			read := 0
			in := &countedBatches{recs: idBatches(pr[0], pr[1], 4), read: &read}
			recs := c.Split[k].Records(in, p, nil)
			for {
				rec, err := recs.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				col := rec.Column(0).(*array.Int64)
				for i := 0; i < col.Len(); i++ {
					got = append(got, col.Value(i))
				}
			}
			if k == 0 && p == 1 && read != 0 {
				t.Errorf("member m_0 read %d rows of part 1, which holds none of its rows", read)
			}
		}
		if fmt.Sprint(got) != want {
			t.Errorf("member %d: rows %v, want %s", k, got, want)
		}
	}
	// Members whose rows do not add up are refused.
	bad := *ds
	bad.Members = []spec.Member{{Object: "m_0", Rows: 3}}
	if c := Members(&bad, &spec.Source{Engine: "mysql"}); len(c.Refused) == 0 {
		t.Error("members of 3 rows in a dataset of 15: not refused")
	}
	if Members(&spec.Dataset{Name: "db.t"}, &spec.Source{}) != nil {
		t.Error("a dataset of one table: a conversion")
	}
}

// A route into tables of the dataset's own engine: one output per
// declared table, a member's DDL on the output of its name; any other key
// of the entry is refused.
func TestSameEngineRoute(t *testing.T) {
	m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: \"db.m\"\n    route: \"'m_' + string(id % 2)\"\n    objects: [\"m_{0..2}\"]\n  - match: \"db.n\"\n    route: \"'m_0'\"\n    objects: [m_0]\n    drop: [id]\n"))
	if err != nil {
		t.Fatal(err)
	}
	ds := &spec.Dataset{Name: "db.m", Namespace: "db", Object: "m", Columns: []spec.Column{{Name: "id", Type: "int64"}}, PrimaryKey: []string{"id"},
		Members: []spec.Member{{Object: "m_0", DDL: "CREATE TABLE `m_0` (...)"}, {Object: "m_1", DDL: "CREATE TABLE `m_1` (...)"}}}
	c := SameEngineRoute(ds, &spec.Source{Engine: "mysql"}, m.For("db.m"))
	if len(c.Refused) > 0 || len(c.Split) != 3 {
		t.Fatalf("conversion refused %v, %d outputs", c.Refused, len(c.Split))
	}
	if d := c.Split[1].Dataset; d.Name != "db.m/m_1" || d.Object != "m_1" || d.DDL != "CREATE TABLE `m_1` (...)" || len(d.Members) != 0 {
		t.Errorf("output 1: %+v", d)
	}
	if d := c.Split[2].Dataset; d.DDL != "" {
		t.Errorf("output m_2, no member of that name: DDL %q", d.DDL)
	}
	n := *ds
	n.Name = "db.n"
	if c := SameEngineRoute(&n, &spec.Source{Engine: "mysql"}, m.For("db.n")); len(c.Refused) == 0 {
		t.Error("a route with drop: not refused")
	}
	if SameEngineRoute(ds, &spec.Source{Engine: "mysql"}, nil) != nil {
		t.Error("no entry: a conversion")
	}
}
