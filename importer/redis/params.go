package redis

import "github.com/imbundle/imbundle/importer"

// The engine's name, and its --param keys (read in target.go; --key-prefix
// and --ttl set the first two).
func init() {
	importer.Declare(importer.Engine{Name: "redis", Records: "keys", Schemes: []string{"redis", "rediss"}, Params: []importer.Param{
		{Key: "key-prefix", Help: "import only keys with this prefix"},
		{Key: "functions", Values: []string{"true", "false"}, Help: "load the bundle's function libraries (default true; false for targets without FUNCTION)"},
		{Key: "ttl", Values: []string{"absolute", "relative"}, Help: "absolute (default: the exported expiry time) or relative (the same remaining TTL from now)"},
		{Key: "connections", Help: "writer connections (default 4, or --jobs if more)"},
		{Key: "batch", Help: "commands per pipeline round (default 4000)"},
		{Key: "elements", Help: "elements per HSET/SADD/ZADD/RPUSH (default 512)"},
	}})
}
