package main

import (
	"github.com/spf13/cobra"
)

// newFixturesCmd groups the fixture generators (fixtures/); each engine adds
// its own subcommand in fixtures_*.go.
func newFixturesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fixtures",
		Short: "Fill a database with realistic IM test data (OpenIM-shaped), dirty records included",
	}
	for _, add := range fixtureCmds {
		cmd.AddCommand(add())
	}
	return cmd
}

var fixtureCmds []func() *cobra.Command
