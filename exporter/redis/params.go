package redis

import "github.com/imbundle/imbundle/exporter"

// The engine's name in manifests, and its --param keys (read in source.go
// and diff.go; --db, --match, --key-prefix and --skip-unsupported set the
// first four).
func init() {
	exporter.Declare(exporter.Engine{Name: "redis", Records: "keys", Schemes: []string{"redis", "rediss"}, Params: []exporter.Param{
		{Key: "db", Help: "logical databases to export, comma-separated (default: all in INFO keyspace, or the URL's)"},
		{Key: "match", Help: "SCAN MATCH pattern"},
		{Key: "key-prefix", Help: "export only keys with this prefix"},
		{Key: "skip-unsupported", Values: []string{"true", "false"}, Help: "skip keys of unknown types (counted) instead of failing (default false)"},
		{Key: "connections", Help: "reader connections per database (default 4)"},
		{Key: "scan-count", Help: "SCAN COUNT hint (default 5000)"},
		{Key: "batch", Help: "keys per pipelined read round (default 1000)"},
		{Key: "page", Help: "elements per page of a big key (default 1000)"},
		{Key: "skip-field-ttl", Values: []string{"true", "false"}, Help: "export hashes whose fields have their own TTL (Redis 7.4+) without those TTLs, counted as uncarried (default false: the TTLs are carried, and only a 7.4+ target takes the bundle)"},
		{Key: "functions", Values: []string{"true", "false"}, Help: "carry function libraries (default true; false leaves them out, counted as uncarried)"},
		{Key: "ttl-tolerance", Help: "verify --against: how far expiry times may differ, a duration or milliseconds (default 2s)"},
	}})
}
