package mysql

import "github.com/imbundle/imbundle/importer"

// The engine's name, and its --param keys (read in mysql.go and indexes.go).
func init() {
	importer.Declare(importer.Engine{Name: "mysql", Schemes: []string{"mysql", "mariadb"}, Params: []importer.Param{
		{Key: "load", Values: []string{"auto", "loaddata", "insert"}, Help: "auto (default: LOAD DATA LOCAL, INSERT if the server refuses it), loaddata or insert"},
		{Key: "defer-indexes", Values: []string{"true", "false"}, Help: "build secondary indexes after the data (default true)"},
	}})
}
