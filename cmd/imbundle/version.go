package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/spec"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// the module version from the build info is used (go install ...@v1.2.3),
// and for a build from a checkout the VCS revision Go records in the binary
// (dev+0123456789ab, with -dirty for uncommitted changes), so that a
// manifest's tool version names the code that wrote it.
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return devVersion(bi.Settings)
}

func devVersion(settings []debug.BuildSetting) string {
	v := "dev"
	for _, s := range settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	for _, s := range settings {
		if s.Key == "vcs.modified" && s.Value == "true" && v != "dev" {
			v += "-dirty"
		}
	}
	return v
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Example: `  imbundle version`,
		Short:   "Print the tool version and the bundle format version it writes",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "imbundle %s (bundle format %s)\n", toolVersion(), spec.FormatVersion)
		},
	}
}
