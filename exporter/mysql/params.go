package mysql

import "github.com/imbundle/imbundle/exporter"

// The engine's name in manifests, and its --param keys (read in mysql.go,
// relations.go and objects.go).
func init() {
	exporter.Declare(exporter.Engine{Name: "mysql", Records: "rows", Schemes: []string{"mysql", "mariadb"}, Params: []exporter.Param{
		{Key: "readers", Help: "connections reading tables in parallel, all in one snapshot (default: --jobs)"},
		{Key: "lock-wait", Help: "seconds to wait for the snapshot lock (default 10)"},
		{Key: "relations", Help: "extra relations, 't(c,...)->u(d,...);...' (tables may be db.table)"},
		{Key: "discover-relations", Values: []string{"true", "false"}, Help: "find references by column name and check them against the data (default true)"},
		{Key: "users", Values: []string{"true", "false"}, Help: "carry the server's accounts (not its own), their grants and password hashes (default false)"},
		{Key: "history", Values: []string{"true", "false"}, Help: "system-versioned tables export every row version, history included (default false: current rows)"},
	}})
}
