package exporter

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// A logical dataset (SPEC.md §3, "Logical datasets") is a sharded table
// family read as one dataset: WildfireChat keeps its messages in the 36
// tables t_messages_0..35 of one database, whose rows are one table's to
// the application. An export profile's shards entries name them; the
// rows keep their values, the members' names and DDL travel in the
// manifest (spec.Member), and the members are read one after the other,
// each streamed as a table is, so that memory stays that of one table.

// ShardRule reads the tables (or collections) of one database whose
// dataset names Match matches (a path.Match glob, "*.t_messages_*") as
// one logical dataset named database.Name.
type ShardRule struct {
	Match string
	Name  string
}

// Shards are an export's shard rules; a dataset takes the first that
// matches it.
type Shards []ShardRule

// Logical is the logical dataset's name for the dataset name (db.object)
// of namespace db, or "" if no rule matches it.
func (s Shards) Logical(db, name string) string {
	for _, r := range s {
		if ok, _ := path.Match(r.Match, name); ok {
			return db + "." + r.Name
		}
	}
	return ""
}

// MemberMismatchError is a member whose columns differ from the first
// member's: the rows of one logical dataset must share one schema.
type MemberMismatchError struct {
	Dataset, Member, First, Detail string
}

func (e *MemberMismatchError) Error() string {
	return fmt.Sprintf("logical dataset %s: member %s differs from %s: %s; the tables a shards entry unites must have identical column definitions (fix the table, or narrow the entry's match); nothing was written",
		e.Dataset, e.Member, e.First, e.Detail)
}

// groupShards replaces the datasets of desc that shards match by their
// logical datasets, in the place of each one's first member, and renames
// the relations that named a member. An empty member is a member.
func groupShards(desc *Description, shards Shards) error {
	if len(shards) == 0 {
		return nil
	}
	var out []Dataset
	at := map[string]int{} // logical name -> index in out
	logicalOf := map[string]string{}
	firstOf := map[string]string{}
	for _, d := range desc.Datasets {
		name := shards.Logical(d.Spec.Namespace, d.Spec.Name)
		if name == "" {
			out = append(out, d)
			continue
		}
		logicalOf[d.Spec.Name] = name
		member := spec.Member{Object: d.Spec.Object, DDL: d.Spec.DDL}
		i, ok := at[name]
		if !ok {
			ds := d.Spec
			ds.Name, ds.Object, ds.DDL = name, name[len(d.Spec.Namespace)+1:], ""
			ds.Members = []spec.Member{member}
			at[name], firstOf[name] = len(out), d.Spec.Name
			out = append(out, Dataset{Spec: ds, Schema: d.Schema})
			continue
		}
		l := &out[i]
		if why := sameShape(l, d); why != "" {
			return &MemberMismatchError{Dataset: name, Member: d.Spec.Name, First: firstOf[name], Detail: why}
		}
		l.Spec.Members = append(l.Spec.Members, member)
	}
	for _, o := range out {
		if _, ok := at[o.Spec.Name]; ok && len(o.Spec.Members) == 0 {
			return fmt.Errorf("logical dataset %s: the source also has a dataset of that name; give the shards entry another dataset name", o.Spec.Name)
		}
	}
	desc.Datasets = out
	seen := map[string]bool{}
	var rels []spec.Relation
	for _, r := range desc.Relations {
		if n, ok := logicalOf[r.From.Dataset]; ok {
			r.From.Dataset = n
		}
		if n, ok := logicalOf[r.To.Dataset]; ok {
			r.To.Dataset = n
		}
		k := fmt.Sprint(r.From, r.To)
		if seen[k] {
			continue // the same key of every shard: one edge of the logical dataset
		}
		seen[k] = true
		rels = append(rels, r)
	}
	desc.Relations = rels
	return nil
}

// sameShape says how member d differs from the logical dataset l's first
// member: kind, key, row filter or a column definition ("" if none).
func sameShape(l *Dataset, d Dataset) string {
	a, b := bundle.ColumnsOf(l.Schema), bundle.ColumnsOf(d.Schema)
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i >= len(a):
			return fmt.Sprintf("it has a column %s more", b[i].Name)
		case i >= len(b):
			return fmt.Sprintf("it lacks column %s", a[i].Name)
		case a[i].Name != b[i].Name:
			return fmt.Sprintf("column %d is %s, not %s", i+1, b[i].Name, a[i].Name)
		case a[i].Type != b[i].Type || a[i].Nullable != b[i].Nullable || a[i].Native != b[i].Native:
			return fmt.Sprintf("column %s is %s, not %s", b[i].Name, columnText(b[i]), columnText(a[i]))
		}
	}
	switch {
	case !l.Schema.Equal(d.Schema):
		return fmt.Sprintf("its Arrow schema %s is not %s", d.Schema, l.Schema)
	case l.Spec.Kind != d.Spec.Kind:
		return fmt.Sprintf("it is a %s, not a %s", d.Spec.Kind, l.Spec.Kind)
	case strings.Join(l.Spec.PrimaryKey, ",") != strings.Join(d.Spec.PrimaryKey, ","):
		return fmt.Sprintf("its primary key is (%s), not (%s)", strings.Join(d.Spec.PrimaryKey, ", "), strings.Join(l.Spec.PrimaryKey, ", "))
	case l.Spec.Filter != d.Spec.Filter:
		return fmt.Sprintf("it is read with the row filter %q, not %q (give one --where for every member)", d.Spec.Filter, l.Spec.Filter)
	}
	return ""
}

func columnText(c spec.Column) string {
	s := c.Type
	if c.Native != "" {
		s = c.Native
	}
	if c.Nullable {
		return s + " NULL"
	}
	return s + " NOT NULL"
}

// MemberDatasets are the datasets a logical dataset's members are read as,
// each named database.object with its own object and DDL; ds itself for
// a dataset of one object.
func MemberDatasets(ds *spec.Dataset) []spec.Dataset {
	if len(ds.Members) == 0 {
		return []spec.Dataset{*ds}
	}
	out := make([]spec.Dataset, len(ds.Members))
	for i, m := range ds.Members {
		md := *ds
		md.Name, md.Object, md.DDL, md.Members, md.Rows = ds.Namespace+"."+m.Object, m.Object, m.DDL, nil, m.Rows
		if ds.Namespace == "" {
			md.Name = m.Object
		}
		out[i] = md
	}
	return out
}

// ReadDataset is src.Read of ds, member after member for a logical
// dataset (export, and verify --against reading a target's shards as the
// bundle's logical dataset). rows, if not nil, is told each member's rows
// once it was read.
func ReadDataset(ctx context.Context, src Source, ds *spec.Dataset, emit func(arrow.RecordBatch) error, rows func(member int, n int64)) error {
	if len(ds.Members) == 0 {
		return src.Read(ctx, ds, emit)
	}
	for i, md := range MemberDatasets(ds) {
		var n int64
		err := src.Read(ctx, &md, func(rec arrow.RecordBatch) error {
			n += rec.NumRows()
			return emit(rec)
		})
		if err != nil {
			return fmt.Errorf("member %s: %w", md.Object, err)
		}
		if rows != nil {
			rows(i, n)
		}
	}
	return nil
}

// memberCheck is the ResumeCheck of a logical dataset: its members',
// joined; "" when one cannot tell.
func memberCheck(ctx context.Context, check func(context.Context, *spec.Dataset) (string, error), ds *spec.Dataset) (string, error) {
	if len(ds.Members) == 0 {
		return check(ctx, ds)
	}
	var parts []string
	for _, md := range MemberDatasets(ds) {
		c, err := check(ctx, &md)
		if err != nil || c == "" {
			return "", err
		}
		parts = append(parts, md.Object+":"+c)
	}
	return strings.Join(parts, ";"), nil
}
