package main

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// targetShapes reads an import target's existing objects through the
// exporter of its URL (convert.Shapes), the same reader verify --against
// uses, so that both convert onto the same shape. The exporter is opened
// on first use (only an import that converts a dataset asks) and on the
// server, without the URL's database: the import creates a database that
// does not exist yet, and each object asked for names its (placed)
// database itself.
type targetShapes struct {
	url    string
	log    *slog.Logger
	src    exporter.Source
	err    error
	opened bool
}

func (s *targetShapes) Existing(ctx context.Context, ds *spec.Dataset) (*spec.Dataset, error) {
	if !s.opened {
		s.opened = true
		u, err := url.Parse(s.url)
		if err != nil {
			s.err = err
			return nil, err
		}
		u.Path, u.RawPath = "", ""
		s.src, s.err = exporter.Open(ctx, u.String(), exporter.Options{Log: s.log})
	}
	if s.err != nil {
		return nil, s.err
	}
	sh, ok := s.src.(convert.Shapes)
	if !ok {
		return nil, nil
	}
	return sh.Existing(ctx, ds)
}

// Close closes the exporter, if it was opened.
func (s *targetShapes) Close() {
	if s.src != nil {
		s.src.Close()
	}
}
