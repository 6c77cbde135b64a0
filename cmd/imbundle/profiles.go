package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/convert"
)

func newProfilesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use: "profiles",
		Example: `  imbundle profiles
  imbundle profiles show openim-v3.8 > my-mapping.yaml   # then edit it and use --map my-mapping.yaml`,
		Short: "List the mapping files shipped in imbundle (use one with --profile NAME)",
		Long: `List the profiles: mapping files (SPEC.md §11.6) shipped in the binary.
Use one as it is with --profile NAME on import, plan and verify, or print it
with "imbundle profiles show NAME", edit it, and use the copy with --map FILE.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			for _, p := range convert.Profiles() {
				fmt.Fprintf(tw, "%s\t%s\n", p.Name, p.Summary)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a profile's mapping file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := convert.ProfileText(args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	})
	return cmd
}
