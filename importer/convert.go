package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// convertItem gives it the conversion of its dataset into the target's
// engine when a default mapping (package convert) leads there: the target
// accepts the converted dataset. A conversion that cannot carry a column
// at all stops the import before anything is written.
func convertItem(t Target, it *Item, log *slog.Logger, rule *convert.DatasetRule) (bool, error) {
	for _, c := range convert.ForMapped(it.Dataset, it.Source, rule) {
		if c.Conversion == nil || !t.Accepts(c.Conversion.Dataset, c.Conversion.Source) || rule.SendsElsewhere(c.To) {
			continue
		}
		if c.Err != nil {
			return false, fmt.Errorf("dataset %q into %s: %w; nothing was written", it.Dataset.Name, c.To, c.Err)
		}
		conv := c.Conversion
		if len(conv.Refused) > 0 {
			return false, Refused(fmt.Errorf("dataset %q cannot be converted to %s exactly (%s): %s; nothing was written. Leave it out (--datasets) or import it into a %s target",
				it.Dataset.Name, c.To, conv.Rule, strings.Join(conv.Refused, "; "), it.Source.Engine))
		}
		log.Info("converting", "dataset", it.Dataset.Name, "from", it.Source.Engine, "to", c.To, "rule", conv.Rule, "notes", strings.Join(conv.Notes, "; "))
		for _, w := range conv.Warnings {
			log.Warn("conversion leaves something behind", "dataset", it.Dataset.Name, "rule", conv.Rule, "warning", w)
		}
		it.Original, it.Conversion = it.Dataset, conv
		it.Dataset, it.Source = conv.Dataset, conv.Source
		// A rule may name the object (a Redis database becomes the table
		// redis_db0) and the namespace (a table's Redis database number).
		it.Namespace, it.Object = conv.Dataset.Namespace, conv.Dataset.Object
		return true, nil
	}
	return false, nil
}

// splitItems is it, or, for a conversion with several outputs (a Redis
// keyspace holding tables, SPEC.md §11.7), one item per output: each reads
// the same bundle dataset (Stored) and loads its own rows.
func splitItems(it *Item) []*Item {
	if it.Conversion == nil || len(it.Conversion.Split) == 0 {
		return []*Item{it}
	}
	var out []*Item
	for i, c := range it.Conversion.Split {
		out = append(out, &Item{Dataset: c.Dataset, Source: c.Source, Namespace: c.Dataset.Namespace, Object: c.Dataset.Object, Conversion: c, Original: it.Original, sharedDigest: i > 0})
	}
	return out
}

// intoExisting converts each converted dataset whose target object
// already exists (the application created its schema) onto that object's
// shape instead, where a rule maps onto existing objects (convert.Into).
// It runs once every item is placed, and writes nothing.
func intoExisting(ctx context.Context, plan *Plan, shapes convert.Shapes) error {
	srcs := map[string]*spec.Source{}
	for i := range plan.Manifest.Sources {
		srcs[plan.Manifest.Sources[i].ID] = &plan.Manifest.Sources[i]
	}
	for _, it := range plan.Items {
		if it.Conversion == nil || !convert.WantsExisting(it.Conversion, srcs[it.Original.Source].Engine, it.Source.Engine) {
			continue
		}
		if shapes == nil {
			if it.Conversion.NeedsExisting() {
				return fmt.Errorf("dataset %q: the %s conversion goes into an existing table, and this import reads no target objects; nothing was written", it.Original.Name, it.Conversion.Rule)
			}
			continue
		}
		at := *it.Dataset
		at.Namespace, at.Object = it.Namespace, it.Object
		into, err := shapes.Existing(ctx, &at)
		if err != nil {
			return fmt.Errorf("dataset %q: read the target's %s.%s: %w; nothing was written", it.Original.Name, it.Namespace, it.Object, err)
		}
		conv, err := convert.Onto(it.Conversion, it.Original, srcs[it.Original.Source], it.Source.Engine, into)
		if err != nil {
			return fmt.Errorf("dataset %q into the existing %s.%s: %w; nothing was written", it.Original.Name, it.Namespace, it.Object, err)
		}
		if conv == nil {
			continue
		}
		if len(conv.Refused) > 0 {
			return fmt.Errorf("dataset %q cannot be converted into the existing %s.%s exactly (%s): %s; nothing was written",
				it.Original.Name, it.Namespace, it.Object, conv.Rule, strings.Join(conv.Refused, "; "))
		}
		plan.Log.Info("converting into an existing object", "dataset", it.Original.Name, "target", it.Namespace+"."+it.Object, "rule", conv.Rule, "notes", strings.Join(conv.Notes, "; "))
		it.Conversion, it.Dataset, it.Source = conv, conv.Dataset, conv.Source
	}
	return nil
}

// rejectConverted writes a record the conversion refused to the reject
// file; without one the part fails, since nothing may be dropped silently.
func rejectConverted(plan *Plan, it *Item, part int, rj convert.Reject) error {
	reason := "conversion " + it.Conversion.Rule + ": " + rj.Reason
	if plan.Rejects == nil {
		return fmt.Errorf("row %d: %s (and no reject file to keep it)", rj.Row, reason)
	}
	ds := it.Dataset.Name
	if rj.Dataset != "" { // a row of an embedded dataset
		ds, part = rj.Dataset, 0
	}
	return plan.Rejects.Add(Reject{Dataset: ds, Part: part, Row: rj.Row, Key: rj.Key, Reason: reason, Values: rj.Values})
}

// readPart opens a part for a target's Prepare: converted when the dataset
// is one the import converts (its rejects are counted when the part loads,
// not here).
func readPart(r *bundle.Reader, plan *Plan, ds *spec.Dataset, part int) (PartRecords, error) {
	for _, it := range plan.Items {
		if it.Dataset != ds || it.Conversion == nil {
			continue
		}
		pr, err := openInput(r, it, part)
		if err != nil {
			return nil, err
		}
		return convertedPart{convertRecords(it, pr, pr, part, func(convert.Reject) error { return nil }), pr}, nil
	}
	return r.OpenPart(ds, part)
}

type convertedPart struct {
	convert.Records
	c io.Closer
}

func (p convertedPart) Close() error { return p.c.Close() }

// sameEngineRule refuses a mapping entry that would change the fields of a
// dataset the target takes as it is: no rule converts within one engine
// yet, and ignoring the entry would load what the user said not to.
func sameEngineRule(rule *convert.DatasetRule) error {
	if rule == nil || (!rule.ChangesFields() && rule.Target == "") {
		return nil
	}
	return fmt.Errorf("%s: this entry changes a dataset that the target takes as it is (same engine); mapping entries apply to datasets converted to another engine only, for now. Use --map OLD=NEW for namespaces, --datasets or skip: true to leave datasets out; nothing was written", rule.Where())
}

// intoMembers makes a logical dataset (SPEC.md §3, "Logical datasets")
// that the target takes as it is go back into its member tables, each
// row into the one it was read from (convert.Members); other datasets are
// left as they are.
func intoMembers(it *Item, log *slog.Logger) error {
	conv := convert.Members(it.Dataset, it.Source)
	if conv == nil {
		return nil
	}
	if len(conv.Refused) > 0 {
		return fmt.Errorf("logical dataset %q: %s; nothing was written", it.Dataset.Name, strings.Join(conv.Refused, "; "))
	}
	log.Info("into its member tables", "dataset", it.Dataset.Name, "members", len(conv.Split), "rule", conv.Rule)
	it.Original, it.Conversion = it.Dataset, conv
	it.Dataset, it.Source = conv.Dataset, conv.Source
	it.Namespace, it.Object = conv.Dataset.Namespace, conv.Dataset.Object
	return nil
}

// isMember reports whether the item loads rows of a logical dataset into
// one table of its own engine (intoMembers, routeSameEngine).
func (it *Item) isMember() bool {
	return it.Conversion != nil && it.Original != nil && len(it.Original.Members) > 0 && (it.Conversion.Rule == convert.RuleMembers || it.Conversion.Rule == convert.RuleRouteTables)
}

// routeSameEngine makes a table that the target takes as it is go into
// the tables its mapping entry's route names, each row as it is
// (convert.SameEngineRoute).
func routeSameEngine(it *Item, rule *convert.DatasetRule, log *slog.Logger) error {
	conv := convert.SameEngineRoute(it.Dataset, it.Source, rule)
	if len(conv.Refused) > 0 {
		return Refused(fmt.Errorf("dataset %q cannot be routed into its tables (%s): %s; nothing was written", it.Dataset.Name, conv.Rule, strings.Join(conv.Refused, "; ")))
	}
	log.Info("routing", "dataset", it.Dataset.Name, "rule", conv.Rule, "notes", strings.Join(conv.Notes, "; "))
	it.Original, it.Conversion = it.Dataset, conv
	it.Dataset, it.Source = conv.Dataset, conv.Source
	it.Namespace, it.Object = conv.Dataset.Namespace, conv.Dataset.Object
	return nil
}
