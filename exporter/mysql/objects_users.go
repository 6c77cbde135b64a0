package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// systemAccount reports the accounts that belong to the server, not to the
// application: they exist on every target already, and copying root's
// password from one server to another would be a surprise.
func systemAccount(user string) bool {
	switch user {
	case "", "root", "mysql", "mariadb.sys", "PUBLIC": // mysql@localhost: Debian's socket-auth admin
		return true
	}
	return strings.HasPrefix(user, "mysql.")
}

// describeUsers carries the server's accounts and their grants with
// --param users=true (as MySQL Shell's dumpInstance does), the server's own
// accounts excepted; without it, it counts them as uncarried. Accounts are
// server-wide: they are not tied to the exported database.
func (s *Source) describeUsers(ctx context.Context, q querier, desc *exporter.Description) error {
	carry := s.opts.Param("users") == "true"
	// MariaDB keeps roles in mysql.user too (is_role); MySQL has no such
	// column. Roles are not carried.
	accounts, err := mysqltype.StringRows(ctx, q, "SELECT User, Host FROM mysql.user WHERE is_role = 'N' ORDER BY User, Host")
	if err != nil {
		accounts, err = mysqltype.StringRows(ctx, q, "SELECT User, Host FROM mysql.user ORDER BY User, Host")
	}
	if err != nil {
		if carry {
			return fmt.Errorf("%s: --param users=true: read mysql.user: %w (the exporting user needs SELECT on mysql.user)", s.url, err)
		}
		desc.Notes = append(desc.Notes, fmt.Sprintf("accounts not counted (cannot read mysql.user: %v); --param users=true carries them", err))
		return nil
	}
	var system, app []string
	for _, a := range accounts {
		name := a[0] + "@" + a[1]
		if systemAccount(a[0]) {
			system = append(system, name)
			continue
		}
		if !carry {
			app = append(app, name)
			continue
		}
		acct := quoteString(a[0]) + "@" + quoteString(a[1])
		var create string
		err := q.QueryRowContext(ctx, "SHOW CREATE USER "+acct).Scan(&create)
		var grants [][]string
		if err == nil {
			grants, err = mysqltype.StringRows(ctx, q, "SHOW GRANTS FOR "+acct)
		}
		if accountGone(err) {
			// mysql.user is not part of the snapshot: an account dropped
			// since it was listed is not the server's any more.
			s.opts.Log.Info("account dropped during the export; not carried", "user", name)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: read account %s: %w", s.url, name, err)
		}
		var lines []string
		for _, g := range grants {
			lines = append(lines, g[0])
		}
		desc.Objects = append(desc.Objects, spec.Object{Kind: spec.ObjectUser, Name: name, Definition: create,
			Options: map[string]string{mysqltype.OptGrants: strings.Join(lines, "\n")}})
	}
	if roles, err := mysqltype.StringRows(ctx, q, "SELECT User FROM mysql.user WHERE is_role = 'Y' ORDER BY User"); err == nil && len(roles) > 0 {
		var names []string
		for _, r := range roles {
			names = append(names, r[0])
		}
		desc.Uncarried = append(desc.Uncarried, uncarried("roles", names, "roles are not carried: create them on the target (CREATE ROLE, GRANT) before importing accounts that use them"))
	}
	if len(app) > 0 {
		desc.Uncarried = append(desc.Uncarried, uncarried("users", app, "accounts and their grants travel with --param users=true"))
	}
	if carry && len(system) > 0 {
		desc.Uncarried = append(desc.Uncarried, uncarried("system accounts", system, "root, anonymous and the server's own accounts are never carried"))
	}
	mysqltype.SortObjects(desc.Objects)
	return nil
}

// accountGone reports the errors of SHOW CREATE USER / SHOW GRANTS for an
// account that does not exist (1133 ER_PASSWORD_NO_MATCH, 1141
// ER_NONEXISTING_GRANT).
func accountGone(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1133 || me.Number == 1141)
}

// quoteString quotes a string literal for the default sql_mode.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}
