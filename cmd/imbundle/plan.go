package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
)

func newPlanCmd() *cobra.Command {
	var (
		targets []string
		maps    []string
		asJSON  bool
		profile string
		dec     decryptFlags
	)
	cmd := &cobra.Command{
		Use:   "plan FILE --target URL [--target URL ...]",
		Short: "Print what an import into a target would do with each dataset, writing nothing",
		Long: `Print, for each dataset of the bundle, what an import into the target would
do with it: load it as it is (same engine), convert it by a default mapping
(another engine; SPEC.md §11), with the mapping's notes on every column, or
leave it out. With several --target (one per engine, as import takes them)
it says which target each dataset goes to, as import would route it.
Nothing connects to a target. Exits 6 (target refused) when a dataset could
not be converted exactly (the import would stop before writing) or when the
targets would take no dataset at all.`,
		Example: `  imbundle plan site.imb --target mongodb://127.0.0.1:27017/openim
  imbundle plan site.imb --target mongodb://127.0.0.1:27017/openim_v3 --target redis://127.0.0.1:6379/0 --profile openim-v3.5`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(targets) == 0 {
				return withCode(exitUsage, fmt.Errorf("need --target URL"))
			}
			engines := make([]scheme.Engine, len(targets))
			for i, t := range targets {
				e, err := importer.EngineOf(t)
				if err != nil {
					return withCode(exitUsage, err)
				}
				engines[i] = e
			}
			renames, mapping, err := splitMaps(maps, profile)
			if err != nil {
				return err
			}
			rename, err := parseMap(renames)
			if err != nil {
				return withCode(exitUsage, err)
			}
			r, err := dec.open(args[0])
			if err != nil {
				return err
			}
			defer r.Close()
			// One target: every dataset's step for it. Several: each
			// target's steps for the datasets import would send it.
			var routes [][]string
			if len(targets) > 1 {
				if routes, err = routeDatasets(r, engines, nil, mapping); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			taken, refused := 0, 0
			var plans []map[string]any
			routed := map[string]bool{}
			for i, e := range engines {
				steps := convert.Plan(r.Manifest(), e.Name, rename, mapping)
				if routes != nil {
					steps = stepsOf(steps, routes[i], routed)
					if !asJSON {
						fmt.Fprintf(out, "target %s (%s):\n", scheme.Redact(targets[i]), e.Name)
					}
				}
				n, x := printSteps(out, steps, asJSON)
				taken, refused = taken+n, refused+x
				plans = append(plans, map[string]any{"target": scheme.Redact(targets[i]), "target_engine": e.Name, "steps": steps})
				if routes != nil && !asJSON {
					fmt.Fprintf(out, "%d dataset(s) would be imported into the %s target\n", n, e.Name)
				}
			}
			var none []string
			if routes != nil {
				for _, ds := range r.Manifest().Datasets {
					if !routed[ds.Name] {
						none = append(none, ds.Name)
						if !asJSON {
							fmt.Fprintf(out, "leave    %s: no target of this run takes it\n", ds.Name)
						}
					}
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				doc := map[string]any{"bundle": args[0], "id": r.ID()}
				if routes == nil {
					doc["target_engine"], doc["steps"] = plans[0]["target_engine"], plans[0]["steps"]
				} else {
					doc["targets"], doc["taken_by_none"] = plans, none
				}
				if err := enc.Encode(doc); err != nil {
					return err
				}
			}
			names := engines[0].Name
			if routes != nil {
				names = "targets'"
			}
			switch {
			case refused > 0:
				return withCode(exitRefused, fmt.Errorf("%d dataset(s) cannot be converted to %s exactly; an import would stop before writing (leave them out with --datasets)", refused, names))
			case taken == 0:
				return withCode(exitRefused, fmt.Errorf("%s takes none of the bundle's %d dataset(s)", targetsPhrase(engines), len(r.Manifest().Datasets)))
			}
			if !asJSON {
				if routes == nil {
					fmt.Fprintf(out, "%d of %d dataset(s) would be imported into the %s target\n", taken, len(r.Manifest().Datasets), engines[0].Name)
				} else {
					fmt.Fprintf(out, "%d of %d dataset(s) would be imported into the %d targets\n", taken, len(r.Manifest().Datasets), len(engines))
				}
				printFinally(out, mapping)
			}
			return nil
		},
	}
	f := cmd.Flags()
	dec.add(f)
	f.StringArrayVar(&targets, "target", nil, "target URL (repeatable: one per engine, as on import; only the scheme is used: nothing connects)")
	f.StringArrayVar(&maps, "map", nil, "namespace renames as on import, OLD=NEW (repeatable), or a mapping file (FILE.yaml)")
	f.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	f.StringVar(&profile, "profile", "", "a mapping file shipped in imbundle (imbundle profiles lists them), instead of --map FILE.yaml")
	return cmd
}

// targetsPhrase names the targets of a plan in its refusal.
func targetsPhrase(engines []scheme.Engine) string {
	if len(engines) == 1 {
		return "a " + engines[0].Name + " target"
	}
	return fmt.Sprintf("none of the %d targets: the run", len(engines))
}

// stepsOf keeps the steps of the datasets routed to one target, and marks
// them routed.
func stepsOf(steps []convert.Step, names []string, routed map[string]bool) []convert.Step {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []convert.Step
	for _, st := range steps {
		if want[st.Dataset] {
			out = append(out, st)
			routed[st.Dataset] = true
		}
	}
	return out
}

// printSteps prints a target's steps (nothing with asJSON) and counts
// those the target would take and those it would refuse.
func printSteps(out io.Writer, steps []convert.Step, asJSON bool) (taken, refused int) {
	for _, st := range steps {
		if st.Left == "" {
			taken++
		}
		if len(st.Refused) > 0 {
			refused++
		}
	}
	if asJSON {
		return taken, refused
	}
	for _, st := range steps {
		switch {
		case st.EmbeddedIn != "":
			fmt.Fprintf(out, "embed    %s (%s, %d rows) into the documents of %s\n", st.Dataset, st.From, st.Rows, st.EmbeddedIn)
		case st.Left != "":
			fmt.Fprintf(out, "leave    %s (%s, %d rows): %s\n", st.Dataset, st.From, st.Rows, st.Left)
		case st.Rule == "":
			fmt.Fprintf(out, "load     %s -> %s %s (%d rows, as it is)\n", st.Dataset, st.Kind, st.Target, st.Rows)
		default:
			fmt.Fprintf(out, "convert  %s -> %s %s (%d rows) by %s\n", st.Dataset, st.Kind, st.Target, st.Rows, st.Rule)
			for _, n := range st.Notes {
				fmt.Fprintf(out, "    %s\n", n)
			}
			for _, w := range st.Warnings {
				fmt.Fprintf(out, "    WARNING: %s\n", w)
			}
		}
		for _, x := range st.Refused {
			fmt.Fprintf(out, "    REFUSED: %s\n", x)
		}
	}
	printUnions(out, steps)
	return taken, refused
}
