package main

// MySQL and MariaDB (mysql:// and mariadb:// URLs).
import (
	_ "github.com/imbundle/imbundle/exporter/mysql"
	_ "github.com/imbundle/imbundle/importer/mysql"
)
