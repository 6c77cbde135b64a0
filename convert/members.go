package convert

import (
	"fmt"
	"io"

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

const ruleMembers = "logical dataset to its member tables v1"

// Members is the conversion of the logical dataset ds back into its
// members, or nil for a dataset of one object.
func Members(ds *spec.Dataset, src *spec.Source) *Conversion {
	if len(ds.Members) == 0 {
		return nil
	}
	c := &Conversion{Rule: ruleMembers, Source: src, Dataset: ds}
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
		c.Split = append(c.Split, &Conversion{Rule: ruleMembers, Source: src, Dataset: &od,
			Notes: []string{fmt.Sprintf("rows %d to %d of %s, which member %s gave at export", from+1, to, ds.Name, m.Object)},
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
