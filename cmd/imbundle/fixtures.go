package main

import (
	"github.com/spf13/cobra"
)

// newFixturesCmd groups the fixture generators (fixtures/); each engine adds
// its own subcommand in fixtures_*.go.
func newFixturesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use: "fixtures",
		Example: `  imbundle fixtures mysql --target mysql://root@127.0.0.1:3306/openim_test --replace
  imbundle fixtures openim-v3.4 --mysql mysql://root@127.0.0.1:3306/oim --mongo mongodb://127.0.0.1:27017/openIM_v3 --redis redis://127.0.0.1:6379/0 --dirty 0.01
  imbundle fixtures wildfirechat --target mysql://root@127.0.0.1:3306/wfchat`,
		Short: "Fill a database with realistic IM test data (OpenIM-shaped), dirty records included",
	}
	for _, add := range fixtureCmds {
		cmd.AddCommand(add())
	}
	return cmd
}

var fixtureCmds []func() *cobra.Command
