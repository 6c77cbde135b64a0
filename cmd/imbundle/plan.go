package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/importer"
)

func newPlanCmd() *cobra.Command {
	var (
		target  string
		maps    []string
		asJSON  bool
		profile string
		dec     decryptFlags
	)
	cmd := &cobra.Command{
		Use:   "plan FILE --target URL",
		Short: "Print what an import into a target would do with each dataset, writing nothing",
		Long: `Print, for each dataset of the bundle, what an import into the target would
do with it: load it as it is (same engine), convert it by a default mapping
(another engine; SPEC.md §11), with the mapping's notes on every column, or
leave it out. Nothing connects to the target. Exits 6 (target refused) when
a dataset could not be converted exactly (the import would stop before
writing) or when the target would take no dataset at all.`,
		Example: `  imbundle plan site.imb --target mongodb://127.0.0.1:27017/openim`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return withCode(exitUsage, fmt.Errorf("need --target URL"))
			}
			e, err := importer.EngineOf(target)
			if err != nil {
				return withCode(exitUsage, err)
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
			steps := convert.Plan(r.Manifest(), e.Name, rename, mapping)
			out := cmd.OutOrStdout()
			taken, refused := 0, 0
			for _, st := range steps {
				if st.Left == "" {
					taken++
				}
				if len(st.Refused) > 0 {
					refused++
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"bundle": args[0], "id": r.ID(), "target_engine": e.Name, "steps": steps}); err != nil {
					return err
				}
			} else {
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
			}
			switch {
			case refused > 0:
				return withCode(exitRefused, fmt.Errorf("%d dataset(s) cannot be converted to %s exactly; an import would stop before writing (leave them out with --datasets)", refused, e.Name))
			case taken == 0:
				return withCode(exitRefused, fmt.Errorf("a %s target takes none of the bundle's %d dataset(s)", e.Name, len(steps)))
			}
			if !asJSON {
				fmt.Fprintf(out, "%d of %d dataset(s) would be imported into the %s target\n", taken, len(steps), e.Name)
				printFinally(out, mapping)
			}
			return nil
		},
	}
	f := cmd.Flags()
	dec.add(f)
	f.StringVar(&target, "target", "", "target URL (only its scheme is used: nothing connects)")
	f.StringArrayVar(&maps, "map", nil, "namespace renames as on import, OLD=NEW (repeatable), or a mapping file (FILE.yaml)")
	f.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	f.StringVar(&profile, "profile", "", "a mapping file shipped in imbundle (imbundle profiles lists them), instead of --map FILE.yaml")
	return cmd
}
