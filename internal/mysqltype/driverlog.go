package mysqltype

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// The MySQL driver prints some errors itself ("[mysql] packets.go:58
// unexpected EOF") to stderr, outside the program's log format and
// level. Routing them through slog's default logger (which the CLI sets
// to its own) makes them ordinary warning records; the error the driver
// returns to the caller is still reported where it happens.
func init() {
	if err := mysql.SetLogger(driverLogger{}); err != nil {
		panic(err)
	}
}

type driverLogger struct{}

func (driverLogger) Print(v ...any) {
	slog.Default().Warn("mysql driver", "message", strings.TrimSpace(fmt.Sprint(v...)))
}
