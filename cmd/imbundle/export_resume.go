package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/scheme"
)

// exportCommand is what names an export for resuming (bundle.Options.
// Command): everything that decides the bundle's content, so that a
// partial file is never continued by an export that would have written
// something else. The sources are redacted (a changed password is the
// same export); --jobs and --temp-dir change no content and are left out.
type exportCommand struct {
	Sources     []string            `json:"sources"`
	Params      []map[string]string `json:"params"`
	Tables      []string            `json:"tables,omitempty"`
	Exclude     []string            `json:"exclude,omitempty"`
	Where       []string            `json:"where,omitempty"`
	AllDBs      bool                `json:"all_databases,omitempty"`
	PartMiB     int                 `json:"part_size_mib"`
	Compression string              `json:"compression_level"`
	Relations   []string            `json:"relations,omitempty"`
	Profile     string              `json:"profile,omitempty"`
	Map         string              `json:"map,omitempty"`
	AllowEmpty  bool                `json:"allow_empty,omitempty"`
}

func (c exportCommand) String() string {
	for i, s := range c.Sources {
		c.Sources[i] = exporter.Redact(withoutWaits(s))
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// withoutWaits drops a source URL's waiting parameters (any query key
// with "timeout" in its name: MySQL's timeout, readTimeout, writeTimeout,
// MongoDB's timeoutMS, connectTimeoutMS, ...): they change how long the
// export waits, never what it reads, and raising one is what the error of
// a server that did not answer in time tells the operator to do before
// running the export again, which must then resume.
func withoutWaits(source string) string {
	u, err := url.Parse(source)
	if err != nil || u.RawQuery == "" {
		return source
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "timeout") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// resumeRefused turns a partial file of another export into a usage error
// saying how to go on.
func resumeRefused(err error) error {
	var mm *bundle.CommandMismatchError
	if !errors.As(err, &mm) {
		return err
	}
	return scheme.Usagef("%v\nrun the command that started it to resume it, or add --restart to discard it and start over", err)
}

// suspendedMessage says what a failed export left for a re-run to resume.
func suspendedMessage(out string) string {
	return fmt.Sprintf("the datasets finished so far are kept in %s (journal %s); run the same command again to resume, or add --restart to start over", bundle.PartialPath(out), bundle.JournalPath(out))
}
