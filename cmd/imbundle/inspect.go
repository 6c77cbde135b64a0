package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

func newInspectCmd() *cobra.Command {
	var (
		asJSON bool
		dec    decryptFlags
	)
	cmd := &cobra.Command{
		Use: "inspect FILE",
		Example: `  imbundle inspect site.imb
  imbundle inspect site.imb --json | jq '.manifest.datasets[] | {name, rows}'`,
		Short: "Print a bundle's sources, datasets, sizes, relations, objects and what it does not carry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := dec.parse()
			if err != nil {
				return err
			}
			path := args[0]
			if path == "-" { // standard input, spooled (stdio.go)
				if path, err = stdinSpool(os.Stdin); err != nil {
					return err
				}
				defer os.Remove(path)
			}
			r, err := openLocation(path, bundle.ReadOptions{Identities: ids})
			var ee *bundle.EncryptedError
			if errors.As(err, &ee) && ee.Err == nil {
				// No identity: what the container shows, and nothing else.
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(struct {
						Encrypted bool                    `json:"encrypted"`
						Summary   bundle.EncryptedSummary `json:"summary"`
					}{true, ee.Summary})
				}
				fmt.Fprint(cmd.OutOrStdout(), encryptedSummary(args[0], ee.Summary))
				return nil
			}
			if err != nil {
				r, err = openBundleWith(path, ids) // the same error, explained
				return err
			}
			defer r.Close()
			m := r.Manifest()
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					ID       string `json:"id"`
					Size     int64  `json:"size"`
					Manifest any    `json:"manifest"`
				}{r.ID(), r.Size(), m})
			}
			fmt.Fprintf(out, "bundle   %s\nid       %s\nformat   %s %s, written by %s %s at %s\nsize     %s\n",
				args[0], r.ID(), m.Format, m.Version, m.Tool.Name, m.Tool.Version, m.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), progress.HumanBytes(r.Size()))
			fmt.Fprintln(out, "\nsources:")
			for _, s := range m.Sources {
				var snap []string
				for k, v := range s.Snapshot {
					snap = append(snap, k+"="+v)
				}
				fmt.Fprintf(out, "  %s  %s %s  %s  %s\n", s.ID, s.Engine, s.ServerVersion, s.URL, strings.Join(snap, " "))
				if line := filterLine(s.Filter); line != "" {
					fmt.Fprintf(out, "      filtered export (partial by request): %s\n", line)
				}
			}
			if m.Compression != nil {
				fmt.Fprintf(out, "compression %s, level %s\n", m.Compression.Codec, m.Compression.Level)
			}
			if vs := r.Volumes(); len(vs) > 0 {
				fmt.Fprintf(out, "volumes  %d beside the index, %s to %s (set %s)\n", len(vs), vs[0].File, vs[len(vs)-1].File, m.Volumes.Set)
			}
			fmt.Fprintln(out, "\ndatasets:")
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "name\tkind\trows\tparts\tbytes\tkey\t")
			var rows, bytes int64
			for _, ds := range m.Datasets {
				var b int64
				for _, p := range ds.Parts {
					b += p.Bytes
				}
				rows += ds.Rows
				bytes += b
				name := ds.Name
				if ds.Filter != "" {
					name += " (where " + ds.Filter + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t\n", name, ds.Kind, ds.Rows, len(ds.Parts), progress.HumanBytes(b), strings.Join(ds.PrimaryKey, ","))
			}
			fmt.Fprintf(tw, "total\t\t%d\t\t%s\t\t\n", rows, progress.HumanBytes(bytes))
			tw.Flush()
			for _, ds := range m.Datasets {
				if len(ds.SchemaKeys) > 0 {
					// Tables and collections kept in Redis (SPEC.md §11.7,
					// §11.8): what an import into MySQL or MongoDB makes.
					keys := make([]string, 0, len(ds.SchemaKeys))
					for k := range ds.SchemaKeys {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					fmt.Fprintf(out, "\n%s holds the tables and collections of schema keys: %s\n", ds.Name, strings.Join(keys, ", "))
				}
			}
			printMembers(out, m)
			printDelta(out, m)
			if len(m.Relations) > 0 {
				fmt.Fprintln(out, "\nrelations:")
				for _, rel := range m.Relations {
					origin := rel.Origin
					if c := rel.Checked; c != nil {
						origin += fmt.Sprintf(", %d of %d values without a row", c.Orphans, c.Values)
					}
					fmt.Fprintf(out, "  %s(%s) -> %s(%s)  [%s]\n", rel.From.Dataset, strings.Join(rel.From.Columns, ","), rel.To.Dataset, strings.Join(rel.To.Columns, ","), origin)
				}
			}
			if len(m.Objects) > 0 {
				fmt.Fprintln(out, "\nobjects:")
				for _, line := range objectsByKind(m.Objects) {
					fmt.Fprintln(out, "  "+line)
				}
			}
			if len(m.Uncarried) > 0 {
				fmt.Fprintln(out, "\nnot carried (the sources hold it, this bundle does not):")
				for _, u := range m.Uncarried {
					fmt.Fprintln(out, "  "+uncarriedLine(m, u))
				}
			}
			for _, n := range m.Notes {
				fmt.Fprintf(out, "note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manifest and id as JSON")
	dec.add(cmd.Flags())
	return cmd
}

// objectsByKind is one line per object kind: how many, and their names
// (namespace.name, trigger names with their table).
func objectsByKind(objs []spec.Object) []string {
	var kinds []string
	names := map[string][]string{}
	for _, o := range objs {
		if _, ok := names[o.Kind]; !ok {
			kinds = append(kinds, o.Kind)
		}
		n := o.Name
		if o.Namespace != "" {
			n = o.Namespace + "." + n
		}
		if o.Table != "" {
			n += " on " + o.Table
		}
		names[o.Kind] = append(names[o.Kind], n)
	}
	sort.Strings(kinds)
	lines := make([]string, len(kinds))
	for i, k := range kinds {
		lines[i] = fmt.Sprintf("%s (%d): %s", k, len(names[k]), strings.Join(names[k], ", "))
	}
	return lines
}

// filterLine is a source's export filter as inspect prints it, "" for none.
func filterLine(f *spec.Filter) string {
	if f == nil {
		return ""
	}
	var parts []string
	if f.AllDatabases {
		parts = append(parts, "--all-databases")
	}
	for _, p := range f.Tables {
		parts = append(parts, "--tables "+p)
	}
	for _, p := range f.Exclude {
		parts = append(parts, "--exclude "+p)
	}
	for _, w := range f.Where {
		parts = append(parts, "--where "+w)
	}
	return strings.Join(parts, " ")
}
