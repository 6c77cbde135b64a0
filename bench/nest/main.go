// Command nest is bench/nest.sh's and bench/embed.sh's in-process side:
// it converts one MySQL table of a bundle to MongoDB documents, with or
// without a mapping file (nest, embed: the embedded datasets are read
// too), and drops the documents, so that /usr/bin/time measures the
// conversion alone (reading and checking the parts, converting, sorting)
// without a target's cost.
//
//	nest BUNDLE DATASET [MAPPING.yaml SORT_MIB TEMP_DIR]
//
// It prints "rows=N docs=D bytes=B rejects=R filtered=F seconds=S".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
)

func main() {
	if len(os.Args) != 3 && len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: nest BUNDLE DATASET [MAPPING.yaml SORT_MIB TEMP_DIR]")
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	start := time.Now()
	r, err := bundle.Open(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	m := r.Manifest()
	var entry *convert.DatasetRule
	var spill convert.Spill
	if len(args) == 5 {
		mp, err := convert.LoadMapping(args[2])
		if err != nil {
			return err
		}
		mp.Bind(m)
		entry = mp.For(args[1])
		mib, err := strconv.Atoi(args[3])
		if err != nil {
			return err
		}
		spill = convert.Spill{Dir: args[4], Memory: int64(mib) << 20}
	}
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		if ds.Name != args[1] {
			continue
		}
		for _, c := range convert.ForMapped(ds, &m.Sources[0], entry) {
			if c.To != "mongodb" {
				continue
			}
			if c.Err != nil || len(c.Conversion.Refused) > 0 {
				return fmt.Errorf("%s: %v %v", ds.Name, c.Err, c.Conversion.Refused)
			}
			conv := c.Conversion
			conv.Spill = spill
			var docs, bytes, rejects, filtered int64
			count := func(rj convert.Reject) error {
				if rj.Filtered {
					filtered++
				} else {
					rejects++
				}
				return nil
			}
			sum := func(rec arrow.RecordBatch) error {
				docs += rec.NumRows()
				bytes += bundle.RecordBytes(rec)
				return nil
			}
			if conv.Whole {
				pr := r.OpenParts(ds)
				var inputs []convert.Records
				for _, in := range conv.Inputs {
					ir := r.OpenParts(in)
					defer ir.Close()
					inputs = append(inputs, ir)
				}
				recs := conv.RecordsWith(pr, inputs, 0, count)
				err = bundle.Drain(recs, sum)
				if c, ok := recs.(interface{ Close() error }); ok {
					c.Close()
				}
				pr.Close()
			} else {
				for p := range ds.Parts {
					pr, perr := r.OpenPart(ds, p)
					if perr != nil {
						return perr
					}
					err = bundle.Drain(conv.Records(pr, p, count), sum)
					pr.Close()
					if err != nil {
						break
					}
				}
			}
			if err != nil {
				return err
			}
			fmt.Printf("rows=%d docs=%d bytes=%d rejects=%d filtered=%d seconds=%.1f\n", ds.Rows, docs, bytes, rejects, filtered, time.Since(start).Seconds())
			return nil
		}
	}
	return fmt.Errorf("no dataset %s converting to mongodb", args[1])
}
