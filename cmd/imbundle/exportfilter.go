package main

import (
	"github.com/imbundle/imbundle/exporter"
)

// exportFilter builds export's --tables, --exclude, --where and
// --all-databases into the one Filter every source shares (nil: none).
func exportFilter(tables, excludes, wheres []string, allDatabases bool) (*exporter.Filter, error) {
	if len(tables) == 0 && len(excludes) == 0 && len(wheres) == 0 && !allDatabases {
		return nil, nil
	}
	f := &exporter.Filter{Include: splitList(tables), Exclude: splitList(excludes), AllDatabases: allDatabases}
	if err := f.CheckPatterns(); err != nil {
		return nil, err
	}
	for _, s := range wheres {
		w, err := exporter.ParseWhere(s)
		if err != nil {
			return nil, err
		}
		f.Where = append(f.Where, w)
	}
	return f, nil
}
