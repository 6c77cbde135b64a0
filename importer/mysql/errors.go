package mysql

import (
	"errors"

	"github.com/go-sql-driver/mysql"
)

// Server error numbers the importer tells apart.
const (
	erDupEntry            = 1062
	erNotAllowedCommand   = 1148 // LOAD DATA LOCAL refused (MariaDB, MySQL 5.x)
	erLocalInfileDisabled = 3948 // LOAD DATA LOCAL refused (MySQL 8)
	erSpecificAccess      = 1227
	erTableAccessDenied   = 1142
	erColumnAccessDenied  = 1143
	erDBAccessDenied      = 1044
	erAccessDenied        = 1045
	erLockWaitTimeout     = 1205
	erLockDeadlock        = 1213
	erQueryInterrupted    = 1317
	erOptionPrevents      = 1290 // e.g. --read-only
	erNoSuchTable         = 1146
	erBadField            = 1054
	erServerShutdown      = 1053
	erOutOfResources      = 1041
	erRecordFileFull      = 1114
	erDiskFull            = 1021
)

// localInfileRefused reports a server that does not take LOAD DATA LOCAL.
func localInfileRefused(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	return me.Number == erNotAllowedCommand || me.Number == erLocalInfileDisabled
}

// dataError reports an error about the values of the statement (a value too
// long, a duplicate key, an invalid date...), as opposed to the connection,
// privileges, locks or the server's state: only data errors lead to a row
// by row reload and rejects; the others fail the part, to be resumed.
func dataError(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case erNotAllowedCommand, erLocalInfileDisabled, erSpecificAccess, erTableAccessDenied,
		erColumnAccessDenied, erDBAccessDenied, erAccessDenied, erLockWaitTimeout, erLockDeadlock,
		erQueryInterrupted, erOptionPrevents, erNoSuchTable, erBadField, erServerShutdown,
		erOutOfResources, erRecordFileFull, erDiskFull:
		return false
	}
	// Client-side errors (2xxx) and connection loss are not MySQLErrors with
	// these numbers; server errors from 1000 on about values are data.
	return me.Number >= 1000 && me.Number < 2000 || me.Number >= 3000
}

// Retryable reports errors after which the part's transaction was rolled
// back whole and loading it again may succeed (importer.Retrier): deadlocks
// between parallel parts, and lock wait timeouts.
func (t *Target) Retryable(err error) bool {
	var gone *stateGoneError
	return errors.As(err, &gone) || lockConflict(err)
}

// lockConflict reports a deadlock or lock wait timeout: the statement was
// rolled back and may succeed when tried again.
func lockConflict(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == erLockDeadlock || me.Number == erLockWaitTimeout)
}

// stateGoneError: the part found the state tables dropped by a concurrent
// import's cleanup; they were created again, nothing of the part was
// committed, and it can be loaded again.
type stateGoneError struct{ err error }

func (e *stateGoneError) Error() string {
	return "the import's state tables were dropped by another import's cleanup: " + e.err.Error()
}
func (e *stateGoneError) Unwrap() error { return e.err }
