package testenv

import (
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/go-sql-driver/mysql"
)

// MySQLAddr is the MariaDB the tests use (IMBUNDLE_TEST_MYSQL overrides it,
// as user[:pass]@host:port).
func MySQLAddr() string { return Getenv("IMBUNDLE_TEST_MYSQL", "root@127.0.0.1:3306") }

// MySQLDatabase creates an empty database with a unique name, dropped when
// the test ends, and returns its mysql:// URL and an open *sql.DB on it.
func MySQLDatabase(t testing.TB, prefix string) (string, *sql.DB) {
	t.Helper()
	admin, err := sql.Open("mysql", dsn(""))
	if err != nil {
		Unavailable(t, "MariaDB", err)
	}
	if err := admin.Ping(); err != nil {
		admin.Close()
		Unavailable(t, "MariaDB at "+MySQLAddr(), err)
	}
	name := Name(prefix)
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
		admin.Close()
	})
	return "mysql://" + MySQLAddr() + "/" + name, db
}

func dsn(db string) string {
	return fmt.Sprintf("%s/%s?multiStatements=true&parseTime=false", tcp(MySQLAddr()), db)
}

// tcp turns user@host:port into the driver's user@tcp(host:port).
func tcp(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[:i+1] + "tcp(" + addr[i+1:] + ")"
		}
	}
	return "tcp(" + addr + ")"
}
