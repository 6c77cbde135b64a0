package convert

import (
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A routed conversion (an entry's route, SPEC.md §11.6) is a conversion
// with one output per declared object (Conversion.Split), each keeping the
// rows the route gives its object. Reading every part once per output
// would be 36 passes for WildfireChat's message shards; instead the first
// output to read a part routes each of its rows once, into a spool file
// per other output (route_spool.go), and those read their spool. Output
// 0 reads the part itself, so that the part's digest is checked on it
// (the other outputs share it) and it alone reports the rows the route
// refuses. An output that finds no spool for a part (it was read already,
// or the part is read again after a transient error) filters the part
// itself: slower, the same rows.

// routeRows is one input batch bound for the route: route(i) evaluates
// the expression on row i, reject(i, row, why) is row i's reject.
type routeRows interface {
	route(i int) (any, error)
	reject(i int, row int64, why string) Reject
}

// router routes the rows of one dataset to its declared objects.
type router struct {
	where   string // FILE:LINE:COLUMN of the route
	objects []string
	index   map[string]int
	bind    func(rec arrow.RecordBatch) (routeRows, error)

	mu    sync.Mutex
	parts map[int]*routedPart
	spool spoolDir
}

// routedPart is what is known of one part: whether it was routed, and
// each output's spool.
type routedPart struct {
	mu     sync.Mutex
	routed bool        // once: a part read again is filtered, not spooled for outputs done with it
	files  []spoolFile // by output; ready when routed for it and not yet read
}

func newRouter(where string, objects []string, bind func(arrow.RecordBatch) (routeRows, error)) *router {
	rt := &router{where: where, objects: objects, index: map[string]int{}, bind: bind, parts: map[int]*routedPart{}}
	for i, o := range objects {
		rt.index[o] = i
	}
	return rt
}

func (rt *router) part(p int) *routedPart {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.parts[p] == nil {
		rt.parts[p] = &routedPart{files: make([]spoolFile, len(rt.objects))}
	}
	return rt.parts[p]
}

// objectOf is the output row i goes to, or why it goes nowhere.
func (rt *router) objectOf(rows routeRows, i int) (int, string) {
	v, err := rows.route(i)
	if err != nil {
		return -1, fmt.Sprintf("route (%s): %v", rt.where, err)
	}
	s, ok := v.(string)
	if !ok {
		return -1, fmt.Sprintf("route (%s) gives %T %v, not an object name", rt.where, v, v)
	}
	k, ok := rt.index[s]
	if !ok {
		return -1, fmt.Sprintf("route (%s) gives %q, which is not among the objects the entry declares", rt.where, s)
	}
	return k, ""
}

// firstHoldsNotes moves the notes of a routed conversion onto its first
// output: plan shows a step per output with the conversion's notes and
// its own, and the route's are the same for 36 shards.
func firstHoldsNotes(rc *Conversion) {
	if len(rc.Split) == 0 {
		return
	}
	rc.Split[0].Notes = append(rc.Notes, rc.Split[0].Notes...)
	rc.Notes = nil
}

// records wraps an output's conversion: inner converts the rows routed to
// output k, read as routedInput hands them on.
func (rt *router) records(k int, inner func(in Records, part int, reject func(Reject) error) Records) func(in Records, part int, reject func(Reject) error) Records {
	return func(in Records, part int, reject func(Reject) error) Records {
		ri := &routedInput{rt: rt, k: k, in: in, part: part, reject: reject}
		return inner(ri, part, ri.rejectAt)
	}
}

// routedInput is the rows of one part routed to output k: from its spool,
// or filtered from the part.
type routedInput struct {
	rt     *router
	k      int
	in     Records
	part   int
	reject func(Reject) error

	started bool
	spool   *spoolReader // nil: filter the part
	row     int64        // the part's rows read, when filtering
	handed  int64        // rows handed on before the current batch
	nums    []int64      // the current batch's rows in the part
	owned   arrow.RecordBatch
}

// rejectAt reports a reject of the inner conversion under the row's
// number in the part: the inner conversion counts the rows it is handed.
func (ri *routedInput) rejectAt(rj Reject) error {
	if i := rj.Row - (ri.handed - int64(len(ri.nums))); i >= 0 && i < int64(len(ri.nums)) {
		rj.Row = ri.nums[i]
	}
	return ri.reject(rj)
}

func (ri *routedInput) Next() (arrow.RecordBatch, error) {
	if ri.owned != nil {
		ri.owned.Release()
		ri.owned = nil
	}
	if !ri.started {
		ri.started = true
		if err := ri.open(); err != nil {
			return nil, err
		}
	}
	for {
		var rec arrow.RecordBatch
		var err error
		if ri.spool != nil {
			rec, ri.nums, err = ri.spool.next()
		} else {
			rec, err = ri.filtered()
		}
		if err != nil {
			if err == io.EOF && ri.spool != nil {
				ri.spool.close()
			}
			return nil, err
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		ri.handed += int64(len(ri.nums))
		ri.owned = rec
		return rec, nil
	}
}

// open routes the part into spools if no output did yet, then takes this
// output's spool, if it has one.
func (ri *routedInput) open() error {
	rt, p := ri.rt, ri.rt.part(ri.part)
	p.mu.Lock()
	defer p.mu.Unlock()
	// Spooling pays when some other output will read a spool: output 0
	// with any other, another output with another but output 0.
	if n := len(rt.objects); !p.routed && (ri.k == 0 && n > 1 || n > 2) {
		if err := ri.route(p); err != nil {
			return err
		}
		p.routed = true
	}
	if f := &p.files[ri.k]; f.ready {
		sr, err := rt.spool.open(*f)
		if err != nil {
			return err
		}
		*f = spoolFile{}
		ri.spool = sr
	}
	return nil
}

// route reads the whole part once, writing each row to the spool of its
// output: every output's when this is output 0, else every output's but
// output 0's (which reads the part itself, with its digest).
func (ri *routedInput) route(p *routedPart) error {
	rt := ri.rt
	ws := make([]*spoolWriter, len(rt.objects))
	fail := func(err error) error {
		for _, w := range ws {
			if w != nil {
				w.abort()
			}
		}
		return err
	}
	var row int64
	idx := make([][]int, len(rt.objects))
	for {
		rec, err := ri.in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		rows, err := rt.bind(rec)
		if err != nil {
			return fail(err)
		}
		for o := range idx {
			idx[o] = idx[o][:0]
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			o, why := rt.objectOf(rows, i)
			if why != "" {
				if ri.k == 0 {
					if err := ri.reject(rows.reject(i, row+int64(i), why)); err != nil {
						return fail(err)
					}
				}
				continue
			}
			if o == 0 && ri.k != 0 {
				continue
			}
			idx[o] = append(idx[o], i)
		}
		for o, is := range idx {
			if len(is) == 0 {
				continue
			}
			if ws[o] == nil {
				if ws[o], err = rt.spool.create(rec.Schema()); err != nil {
					return fail(err)
				}
			}
			part := takeRows(rec, is)
			err := ws[o].write(part, row, is)
			part.Release()
			if err != nil {
				return fail(err)
			}
		}
		row += rec.NumRows()
	}
	for o := range p.files {
		if o == 0 && ri.k != 0 {
			continue
		}
		f := spoolFile{ready: true}
		if ws[o] != nil {
			var err error
			if f, err = ws[o].finish(); err != nil {
				return fail(err)
			}
		}
		p.files[o] = f
	}
	return nil
}

// filtered is the next batch of the part's rows routed to this output,
// read from the part itself; output 0 reports the rows the route refuses.
func (ri *routedInput) filtered() (arrow.RecordBatch, error) {
	rec, err := ri.in.Next()
	if err != nil {
		return nil, err
	}
	rows, err := ri.rt.bind(rec)
	if err != nil {
		return nil, err
	}
	var is []int
	ri.nums = ri.nums[:0]
	for i := 0; i < int(rec.NumRows()); i++ {
		o, why := ri.rt.objectOf(rows, i)
		if why != "" && ri.k == 0 {
			if err := ri.reject(rows.reject(i, ri.row+int64(i), why)); err != nil {
				return nil, err
			}
		}
		if o == ri.k {
			is = append(is, i)
			ri.nums = append(ri.nums, ri.row+int64(i))
		}
	}
	ri.row += rec.NumRows()
	return takeRows(rec, is), nil
}

// takeRows is a new batch of rec's rows is (ascending): runs of adjacent
// rows are sliced, several runs concatenated column by column.
func takeRows(rec arrow.RecordBatch, is []int) arrow.RecordBatch {
	if len(is) == int(rec.NumRows()) {
		rec.Retain()
		return rec
	}
	type run struct{ from, to int }
	var runs []run
	for _, i := range is {
		if n := len(runs); n > 0 && runs[n-1].to == i {
			runs[n-1].to++
		} else {
			runs = append(runs, run{i, i + 1})
		}
	}
	switch len(runs) {
	case 0:
		return rec.NewSlice(0, 0)
	case 1:
		return rec.NewSlice(int64(runs[0].from), int64(runs[0].to))
	}
	cols := make([]arrow.Array, rec.NumCols())
	for c := range cols {
		pieces := make([]arrow.Array, len(runs))
		for j, r := range runs {
			pieces[j] = array.NewSlice(rec.Column(c), int64(r.from), int64(r.to))
		}
		a, err := array.Concatenate(pieces, memory.DefaultAllocator)
		for _, p := range pieces {
			p.Release()
		}
		if err != nil {
			panic(fmt.Sprintf("convert: concatenate slices of one column: %v", err)) // same type by construction
		}
		cols[c] = a
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(len(is)))
	for _, a := range cols {
		a.Release()
	}
	return out
}
