package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imbundle/imbundle/internal/scheme"
)

// Settings come from, first to last: the command line, the environment
// (IMBUNDLE_<FLAG>, the flag's name in capitals with _ for -), and an
// optional config file (--config FILE, else $IMBUNDLE_CONFIG, else
// <user config dir>/imbundle/config.yaml when it exists):
//
//	log-level: warn        # any command's flag
//	export:                # one command's flags, over the lines above
//	  jobs: 4
//	  compression-level: best
//	import:
//	  mode: append
//	  target: [mysql://root@db2:3306/, redis://cache2:6379]
//
// A flag the command line sets is never overridden; a repeatable flag takes
// a list.

// configPath is the config file to read, "" for none.
func configPath(flag string) (string, bool) {
	if flag != "" {
		return flag, true
	}
	if p := os.Getenv("IMBUNDLE_CONFIG"); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "imbundle", "config.yaml"), false
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return "IMBUNDLE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applySettings sets each flag of c the command line left unset from the
// environment, else from the config file.
func applySettings(c *cobra.Command, configFlag string) error {
	file, err := loadConfig(c, configFlag)
	if err != nil {
		return err
	}
	var ferr error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if ferr != nil || f.Changed || f.Name == "help" || f.Name == "config" {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := c.Flags().Set(f.Name, v); err != nil {
				ferr = scheme.Usagef("%s=%q: %v", envName(f.Name), v, err)
			}
			return
		}
		if vals, ok := file.values[f.Name]; ok {
			for _, v := range vals {
				if err := c.Flags().Set(f.Name, v); err != nil {
					ferr = scheme.Usagef("%s: %s: %q: %v", file.path, f.Name, v, err)
					return
				}
			}
		}
	})
	return ferr
}

// configValues are a config file's values for one command, by flag name.
type configValues struct {
	path   string
	values map[string][]string
}

// loadConfig reads the config file's values for command c: its top-level
// keys, then c's section over them. A key that is no flag of c (nor a
// command's section) is refused, naming it: a misspelt setting would
// otherwise be ignored.
func loadConfig(c *cobra.Command, configFlag string) (configValues, error) {
	path, explicit := configPath(configFlag)
	out := configValues{path: path, values: map[string][]string{}}
	if path == "" {
		return out, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("config file: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return out, withCode(exitBadInput, fmt.Errorf("config file %s: %w", path, err))
	}
	commands := map[string]bool{}
	for _, sub := range c.Root().Commands() {
		commands[sub.Name()] = true
	}
	set := func(key string, v any, where string) error {
		flag := c.Flags().Lookup(key)
		if flag == nil {
			return nil // another command's flag (checked below)
		}
		var vals []string
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				vals = append(vals, fmt.Sprint(e))
			}
		case map[string]any:
			return withCode(exitBadInput, fmt.Errorf("config file %s: %s%s: want a value or a list", path, where, key))
		default:
			vals = []string{fmt.Sprint(v)}
		}
		out.values[key] = vals
		return nil
	}
	known := allFlags(c.Root())
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if commands[k] {
			continue
		}
		if !known[k] {
			return out, withCode(exitBadInput, fmt.Errorf("config file %s: %q is no flag of any imbundle command, nor a command", path, k))
		}
		if err := set(k, doc[k], ""); err != nil {
			return out, err
		}
	}
	if section, ok := doc[c.Name()].(map[string]any); ok && c != c.Root() {
		for k, v := range section {
			if c.Flags().Lookup(k) == nil {
				return out, withCode(exitBadInput, fmt.Errorf("config file %s: %s.%s: %s has no flag --%s", path, c.Name(), k, c.CommandPath(), k))
			}
			if err := set(k, v, c.Name()+"."); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// allFlags are the flag names of every command.
func allFlags(c *cobra.Command) map[string]bool {
	out := map[string]bool{}
	c.Flags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	c.PersistentFlags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	for _, sub := range c.Commands() {
		for n := range allFlags(sub) {
			out[n] = true
		}
	}
	return out
}
