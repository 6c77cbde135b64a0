package scheme

import (
	"net/url"
	"strings"
)

// Redact returns rawURL without user info or secret query parameters, for
// manifests, logs and error messages. An unparsable URL is reduced to its
// scheme, so that a password never leaks through a parse error.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.Index(rawURL, "://"); i > 0 {
			return rawURL[:i] + "://<unparsable>"
		}
		return "<unparsable URL>"
	}
	return RedactURL(u)
}

// RedactURL is Redact for a parsed URL.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "pass") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") || strings.Contains(lk, "key") {
			q.Set(k, "REDACTED")
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}
