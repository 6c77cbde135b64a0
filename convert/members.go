package convert

import (
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// A logical dataset (SPEC.md §3, "Logical datasets") going into a target
// of its own engine without a mapping entry that routes it goes back
// into its member tables, each row into the one it was read from: the
// members' rows follow one another in the parts, member by member, and
// the manifest records how many each gave (spec.Member.Rows), so a row's
// position names its member exactly. Each member is an output of its own
// (Conversion.Split), created from its own DDL or loaded into the
// target's existing table of that name; an output reads only the parts
// that hold some of its rows, and of those only up to its last row.

// RuleMembers names the conversion of a logical dataset into its members.
const RuleMembers = "logical dataset to its member tables v1"

// Members is the conversion of the logical dataset ds back into its
// members, or nil for a dataset of one object.
func Members(ds *spec.Dataset, src *spec.Source) *Conversion {
	if len(ds.Members) == 0 {
		return nil
	}
	c := &Conversion{Rule: RuleMembers, Source: src, Dataset: ds}
	partStart := make([]int64, len(ds.Parts)+1)
	for i, p := range ds.Parts {
		partStart[i+1] = partStart[i] + p.Rows
	}
	var start int64
	for _, m := range ds.Members {
		od := *ds
		od.Name, od.Object, od.DDL, od.Members, od.Rows = ds.Name+"/"+m.Object, m.Object, m.DDL, nil, m.Rows
		from, to := start, start+m.Rows
		start = to
		note := fmt.Sprintf("rows %d to %d of %s, which member %s gave at export", from+1, to, ds.Name, m.Object)
		if from == to {
			note = fmt.Sprintf("no row: member %s was empty at export (its table is still made)", m.Object)
		}
		c.Split = append(c.Split, &Conversion{Rule: RuleMembers, Source: src, Dataset: &od,
			Notes: []string{note},
			records: func(in Records, part int, _ func(Reject) error) Records {
				return &memberRows{in: in, row: partStart[part], from: from, to: to, partEnd: partStart[part+1]}
			}})
	}
	if start != ds.Rows {
		c.Refused = append(c.Refused, fmt.Sprintf("its members gave %d rows and the dataset holds %d: the manifest's members do not add up", start, ds.Rows))
	}
	c.Dataset = c.Split[0].Dataset
	c.Notes = []string{fmt.Sprintf("each row back into the member table it was read from (%d members)", len(ds.Members))}
	firstHoldsNotes(c)
	return c
}

// memberRows is the rows [from, to) of a logical dataset in one part,
// whose first row is the dataset's row number row.
type memberRows struct {
	in       Records
	row      int64
	from, to int64
	partEnd  int64
	owned    arrow.RecordBatch
	done     bool
}

func (r *memberRows) Next() (arrow.RecordBatch, error) {
	if r.owned != nil {
		r.owned.Release()
		r.owned = nil
	}
	// A part before or after the member's rows holds none of them: not
	// read (the importer digests what an output leaves unread).
	if r.done || r.partEnd <= r.from || r.row >= r.to {
		return nil, io.EOF
	}
	for {
		rec, err := r.in.Next()
		if err != nil {
			return nil, err
		}
		lo, hi := r.row, r.row+rec.NumRows()
		r.row = hi
		a, b := max(lo, r.from), min(hi, r.to)
		if hi >= r.to {
			r.done = true
		}
		if a >= b {
			if r.done {
				return nil, io.EOF
			}
			continue
		}
		r.owned = rec.NewSlice(a-lo, b-lo)
		return r.owned, nil
	}
}

// memberIndex finds the member table of a logical dataset's row from its
// part and its row number in the part.
type memberIndex struct {
	partStart []int64  // the dataset's row number of each part's first row
	ends      []int64  // each member's last row + 1, in the dataset's numbering
	names     []string // each member's dataset name (database.table)
}

func newMemberIndex(ds *spec.Dataset) *memberIndex {
	x := &memberIndex{partStart: make([]int64, len(ds.Parts))}
	var n int64
	for i, p := range ds.Parts {
		x.partStart[i] = n
		n += p.Rows
	}
	n = 0
	for _, m := range ds.Members {
		n += m.Rows
		x.ends = append(x.ends, n)
		name := m.Object
		if ds.Namespace != "" {
			name = ds.Namespace + "." + m.Object
		}
		x.names = append(x.names, name)
	}
	return x
}

// at is the dataset name of the member that gave row row of part part.
func (x *memberIndex) at(part int, row int64) string {
	r := row
	if part >= 0 && part < len(x.partStart) {
		r += x.partStart[part]
	}
	i := sort.Search(len(x.ends), func(i int) bool { return x.ends[i] > r })
	if i == len(x.ends) {
		i = len(x.ends) - 1
	}
	return x.names[i]
}
