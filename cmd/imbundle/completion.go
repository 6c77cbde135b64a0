package main

import (
	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
)

// Shell completion is cobra's own "imbundle completion bash|zsh|fish|
// powershell"; this file adds the values of the flags whose values are
// known, so that TAB offers them.

// flagValues are the fixed values of flags by name, whichever command has
// them.
var flagValues = map[string][]string{
	"format":            {"jsonl", "csv", "parquet"},
	"mode":              {"fail", "append", "replace"},
	"log-format":        {"auto", "text", "json"},
	"log-level":         {"debug", "info", "warn", "error"},
	"compression-level": {"fastest", "default", "better", "best"},
	"ttl":               {"absolute", "relative"},
}

// addCompletions registers the value completions of c's flags and its
// subcommands'.
func addCompletions(c *cobra.Command) {
	complete := func(name string, fn cobra.CompletionFunc) {
		if c.Flags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
			c.RegisterFlagCompletionFunc(name, fn)
		}
	}
	local := func(name string) bool {
		return c.LocalNonPersistentFlags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil
	}
	for name, vals := range flagValues {
		if local(name) {
			complete(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	if local("profile") {
		complete("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, p := range convert.Profiles() {
				names = append(names, p.Name+"\t"+p.Summary)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		})
	}
	if local("param") {
		engines := importer.Engines()
		if c.Name() == "export" || c.Name() == "verify" {
			engines = exporter.Engines()
		}
		complete("param", cobra.FixedCompletions(paramKeys(engines), cobra.ShellCompDirectiveNoSpace|cobra.ShellCompDirectiveNoFileComp))
	}
	for _, sub := range c.Commands() {
		addCompletions(sub)
	}
}

// paramKeys are the --param keys of engines as "KEY=", with their help.
func paramKeys(engines []scheme.Engine) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range engines {
		for _, p := range e.Params {
			if !seen[p.Key] {
				seen[p.Key] = true
				out = append(out, p.Key+"=\t"+e.Name+": "+p.Help)
			}
		}
	}
	return out
}
