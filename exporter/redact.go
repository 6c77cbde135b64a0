package exporter

import (
	"net/url"

	"github.com/imbundle/imbundle/internal/scheme"
)

// Redact returns rawURL without user info or secret query parameters, for
// manifests, logs and error messages (scheme.Redact, shared with the
// importer).
func Redact(rawURL string) string { return scheme.Redact(rawURL) }

// RedactURL is Redact for a parsed URL.
func RedactURL(u *url.URL) string { return scheme.RedactURL(u) }
