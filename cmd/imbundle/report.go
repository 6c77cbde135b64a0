package main

import (
	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/report"
)

// addReportFlag gives cmd --report FILE.html|FILE.json and runs its body
// with a report in its context (report.From), written when it ends, also
// when it fails: the report then says where it stopped.
func addReportFlag(cmd *cobra.Command) {
	var paths []string
	cmd.Flags().StringArrayVar(&paths, "report", nil, "write a report of the run to FILE.html (one self-contained page with charts) or FILE.json (repeatable; the format is the extension's)")
	body := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(paths) == 0 {
			return body(c, args)
		}
		if err := report.CheckPaths(paths); err != nil {
			return scheme.Usagef("--report: %v", err)
		}
		rep := report.New(c.Name(), "imbundle "+toolVersion())
		c.SetContext(report.NewContext(c.Context(), rep))
		err := body(c, args)
		rep.Finish(err)
		if werr := rep.WriteFiles(paths); werr != nil && err == nil {
			return werr
		}
		return err
	}
}
