package main

// The engines, each an exporter and an importer registered by URL scheme with
// its name and --param keys (params.go of each package); cmd names none.
import (
	_ "github.com/imbundle/imbundle/exporter/mongo" // mongodb://, mongodb+srv://
	_ "github.com/imbundle/imbundle/exporter/mysql" // mysql://, mariadb://
	_ "github.com/imbundle/imbundle/exporter/redis" // redis://, rediss://
	_ "github.com/imbundle/imbundle/importer/mongo"
	_ "github.com/imbundle/imbundle/importer/mysql"
	_ "github.com/imbundle/imbundle/importer/redis"
)
