package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Flags win over IMBUNDLE_<FLAG> variables, which win over the config
// file, whose command section wins over its top level.
func TestConfigPrecedence(t *testing.T) {
	path := cliBundle(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("IMBUNDLE_CONFIG", cfg)
	level := func(args ...string) string {
		t.Helper()
		if out, err := runCLI(t, append([]string{"inspect", path}, args...)...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return globals.logLevel
	}
	write("log-level: warn\n")
	if got := level(); got != "warn" {
		t.Errorf("config file: log level %q, want warn", got)
	}
	write("log-level: warn\ninspect:\n  log-level: debug\n")
	if got := level(); got != "debug" {
		t.Errorf("config file's inspect section: log level %q, want debug", got)
	}
	t.Setenv("IMBUNDLE_LOG_LEVEL", "error")
	if got := level(); got != "error" {
		t.Errorf("environment over config file: log level %q, want error", got)
	}
	if got := level("--log-level", "info"); got != "info" {
		t.Errorf("flag over environment: log level %q, want info", got)
	}
	// A command's own flag from its section: inspect --json.
	write("inspect:\n  json: true\n")
	if out, err := runCLI(t, "inspect", path); err != nil || !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("inspect: json: true in the config file: %v\n%s", err, out)
	}
	// Mistakes name where they are.
	t.Setenv("IMBUNDLE_LOG_LEVEL", "")
	os.Unsetenv("IMBUNDLE_LOG_LEVEL")
	for _, tc := range []struct {
		file, want string
		code       int
	}{
		{"log-levle: warn\n", `"log-levle" is no flag of any imbundle command`, exitBadInput},
		{"inspect:\n  jobs: 3\n", "inspect.jobs: imbundle inspect has no flag --jobs", exitBadInput},
		{"log-level: [warn\n", "config file " + cfg, exitBadInput},
		{"inspect:\n  json: maybe\n", cfg + `: json: "maybe"`, exitUsage},
	} {
		write(tc.file)
		_, err := runCLI(t, "inspect", path)
		if exitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: exit %d, %v; want %d and %q", tc.file, exitCode(err), err, tc.code, tc.want)
		}
	}
	write("")
	t.Setenv("IMBUNDLE_JOBS", "zero")
	if _, err := runCLI(t, "verify", path); exitCode(err) != exitUsage || !strings.Contains(err.Error(), `IMBUNDLE_JOBS="zero"`) {
		t.Errorf("a bad environment value: exit %d, %v", exitCode(err), err)
	}
	// --config names a file that must exist.
	os.Unsetenv("IMBUNDLE_JOBS")
	if _, err := runCLI(t, "inspect", path, "--config", filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("--config of a missing file: %v", err)
	}
}

// Shell completion: cobra's script, and the values of flags whose values
// are known (cobra's hidden __complete is what the scripts call).
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, err := runCLI(t, "completion", sh)
		if err != nil || !strings.Contains(out, "imbundle") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", sh, err, len(out))
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"extract", "x.imb", "--format", ""}, []string{"jsonl", "csv", "parquet"}},
		{[]string{"import", "x.imb", "--mode", ""}, []string{"fail", "append", "replace"}},
		{[]string{"import", "x.imb", "--profile", ""}, []string{"openim-v3.4-checks\t", "wildfirechat-checks\t"}},
		{[]string{"export", "--compression-level", ""}, []string{"fastest", "best"}},
		{[]string{"export", "--param", ""}, []string{"readers=\tmysql: ", "scan-count=\tredis: "}},
		{[]string{"import", "x.imb", "--param", ""}, []string{"insert-workers="}},
		{[]string{"inspect", "x.imb", "--log-level", ""}, []string{"debug", "error"}},
	} {
		out, err := runCLI(t, append([]string{"__complete"}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("completing %v: no %q in\n%s", tc.args, w, out)
			}
		}
	}
}
