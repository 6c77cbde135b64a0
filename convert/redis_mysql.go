package convert

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// The default mappings between a Redis database and a MySQL table (SPEC.md
// §11.5): a row per layout row, the primary key ord the row's ordinal, the
// layout's columns as columns of the same name, and back from a table
// whose COMMENT is the layout's marker.
func init() {
	RegisterMapped(redisEngine, mysqltype.Engine, keysOr(keysToMySQL, redisToMySQL))
	RegisterMapped(mysqltype.Engine, redisEngine, keysOrMapped(KeysToRedis, mysqlToRedisMapped))
}

// mysqlToRedisMapped sends a table marked by §11.5 back into its layout,
// and any other table to hashes (§11.7), which take a mapping's filter.
func mysqlToRedisMapped(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	if ds.Kind == spec.KindTable && commentedLayout(ds.DDL) == nil {
		return tableToHashes(ds, src, d)
	}
	c, err := mysqlToRedis(ds, src)
	refuseFieldChanges(c, d)
	return c, err
}

const (
	ordColumn = "ord"
	// textSuffix names a DOUBLE's companion, which holds the values no
	// MySQL DOUBLE stores: MariaDB refuses inf and -inf and stores -0 as 0
	// (measured on 10.11: every form of -0 reads back as +0).
	textSuffix = "_text"
	// keyPrefix is the prefix of key the lookup index covers (an index on
	// a LONGBLOB needs one).
	keyPrefix = 255
)

func ruleRedisMySQL(l *redisLayout) string { return l.word() + " to mysql-table v1" }
func ruleMySQLRedis(l *redisLayout) string { return "mysql-table to " + l.word() + " v1" }

// sqlType is a layout column's MySQL type, and the type the MySQL exporter
// reports for it (imbundle.native).
func sqlType(k cellKind) (ddl, native string) {
	switch k {
	case cellBytes:
		return "longblob", "longblob"
	case cellText:
		return "varchar(64) CHARACTER SET ascii COLLATE ascii_bin", "varchar(64)"
	case cellFloat:
		return "double", "double"
	}
	return "bigint(20)", "bigint(20)"
}

func asciiText() arrow.Metadata {
	return arrow.MetadataFrom(map[string]string{bundle.MetaNative: "varchar(64)", mysqltype.MetaCharset: "ascii", mysqltype.MetaCollation: "ascii_bin"})
}

// mysqlSchema is the Arrow schema in which the MySQL exporter reads the
// table back: ord, the layout's columns, a _text companion after a float.
func mysqlSchema(l *redisLayout) *arrow.Schema {
	native := func(n string) arrow.Metadata { return arrow.MetadataFrom(map[string]string{bundle.MetaNative: n}) }
	fields := []arrow.Field{{Name: ordColumn, Type: arrow.PrimitiveTypes.Int64, Metadata: native("bigint(20)")}}
	for _, c := range l.cols {
		_, n := sqlType(c.kind)
		f := arrow.Field{Name: c.name, Nullable: c.nullable, Metadata: native(n)}
		switch c.kind {
		case cellBytes:
			f.Type = bundle.Bytes
		case cellText:
			f.Type, f.Metadata = bundle.Text, asciiText()
		case cellFloat:
			f.Type = arrow.PrimitiveTypes.Float64
		case cellInt:
			f.Type = arrow.PrimitiveTypes.Int64
		}
		fields = append(fields, f)
		if c.kind == cellFloat {
			fields = append(fields, arrow.Field{Name: c.name + textSuffix, Type: bundle.Text, Nullable: true, Metadata: asciiText()})
		}
	}
	return arrow.NewSchema(fields, nil)
}

// mysqlDDL is the table's CREATE TABLE, in the form SHOW CREATE TABLE
// prints (the importer defers the lookup index by reading it).
func mysqlDDL(l *redisLayout, table string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE `%s` (\n  `%s` bigint(20) NOT NULL,\n", table, ordColumn)
	for _, c := range l.cols {
		ddl, _ := sqlType(c.kind)
		null := "NOT NULL"
		if c.nullable {
			null = "DEFAULT NULL"
		}
		fmt.Fprintf(&b, "  `%s` %s %s,\n", c.name, ddl, null)
		if c.kind == cellFloat {
			fmt.Fprintf(&b, "  `%s%s` varchar(64) CHARACTER SET ascii COLLATE ascii_bin DEFAULT NULL,\n", c.name, textSuffix)
		}
	}
	fmt.Fprintf(&b, "  PRIMARY KEY (`%s`),\n  KEY `by_key` (`key`(%d))\n", ordColumn, keyPrefix)
	fmt.Fprintf(&b, ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='%s'", l.marker())
	return b.String()
}

func redisToMySQL(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	l := layoutOfDataset(ds)
	if l == nil || emptyStreamState(ds, l) {
		return nil, nil
	}
	if l == keyspaceLayout {
		if c := hashesToTables(ds, src); c != nil {
			return c, nil // tables kept in Redis go back as those tables (§11.7)
		}
	}
	table := l.objectName(ds.Namespace)
	schema := mysqlSchema(l)
	c := &Conversion{Rule: ruleRedisMySQL(l), Source: convertedSource(src, mysqltype.Engine),
		Dataset: &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindTable,
			Namespace: ds.Namespace, Object: table, Columns: bundle.ColumnsOf(schema), PrimaryKey: []string{ordColumn},
			DDL: mysqlDDL(l, table), Options: map[string]string{"engine": "InnoDB", "table_collation": "utf8mb4_bin"},
			Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest},
		Notes: []string{
			"a row per layout row: ord (the primary key) is the row's ordinal in the dataset, from 0, then the layout's columns",
			"bytes are LONGBLOB, text ASCII VARCHAR, integers BIGINT, score DOUBLE; a score no DOUBLE holds (inf, -inf, -0) is NULL there and spelled in score_text",
			"expire_at_ms is a plain BIGINT; the table's COMMENT '" + l.marker() + "' marks it for the way back",
		},
	}
	offsets := ordinals(ds)
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		cols := make([]int, len(l.cols))
		for k := range cols {
			cols[k] = k
		}
		cells := make([]cell, len(l.cols))
		var row int64
		return &converting{in: in, fn: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
			rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			defer rb.Release()
			rb.Reserve(int(rec.NumRows()))
			for i := 0; i < int(rec.NumRows()); i++ {
				rb.Field(0).(*array.Int64Builder).Append(offsets[part] + row)
				row++
				if err := readCells(rec, cols, i, cells); err != nil {
					return nil, err
				}
				f := 1
				for k, col := range l.cols {
					c := cells[k]
					if col.kind != cellFloat {
						appendCell(rb.Field(f), c)
						f++
						continue
					}
					text := specialFloat(c)
					if text != "" {
						c = cell{null: true}
					}
					appendCell(rb.Field(f), c)
					appendCell(rb.Field(f+1), cell{null: text == "", b: []byte(text)})
					f += 2
				}
			}
			return rb.NewRecordBatch(), nil
		}}
	}
	return c, nil
}

// specialFloat spells, as Redis does, a float no MySQL DOUBLE holds.
func specialFloat(c cell) string {
	switch {
	case c.null:
		return ""
	case math.IsInf(c.f, 1):
		return "inf"
	case math.IsInf(c.f, -1):
		return "-inf"
	case c.f == 0 && math.Signbit(c.f):
		return "-0"
	}
	return ""
}

func parseSpecial(s string) (float64, bool) {
	switch s {
	case "inf":
		return math.Inf(1), true
	case "-inf":
		return math.Inf(-1), true
	case "-0":
		return math.Copysign(0, -1), true
	}
	return 0, false
}

// tableComment is the COMMENT of a SHOW CREATE TABLE's table options.
var tableComment = regexp.MustCompile(`(?m)^\).*\bCOMMENT='((?:[^'\\]|\\.|'')*)'`)

func commentedLayout(ddl string) *redisLayout {
	m := tableComment.FindStringSubmatch(ddl)
	if m == nil {
		return nil
	}
	for _, l := range redisLayouts {
		if m[1] == l.marker() {
			return l
		}
	}
	return nil
}

// mysqlColumns finds ord and the layout's columns in a table dataset by
// name, with the Arrow types the forward rule gives them; text[k] is the
// companion of float column k (-1 for others).
func mysqlColumns(ds *spec.Dataset, l *redisLayout) (ord int, cols, text []int, err error) {
	idx := map[string]int{}
	for i, c := range ds.Columns {
		idx[c.Name] = i
	}
	want := mysqlSchema(l)
	for _, f := range want.Fields() {
		i, ok := idx[f.Name]
		if !ok {
			return 0, nil, nil, fmt.Errorf("column %s is missing", f.Name)
		}
		if got := ds.Columns[i].Type; !bundle.SameValues(got, f.Type.String()) {
			return 0, nil, nil, fmt.Errorf("column %s is %s, the layout's is %s", f.Name, got, f.Type)
		}
		delete(idx, f.Name)
	}
	for _, c := range ds.Columns {
		if _, extra := idx[c.Name]; extra {
			return 0, nil, nil, fmt.Errorf("column %s is not the layout's", c.Name)
		}
	}
	for i, c := range ds.Columns {
		idx[c.Name] = i
	}
	ord = idx[ordColumn]
	for _, c := range l.cols {
		cols = append(cols, idx[c.name])
		t := -1
		if c.kind == cellFloat {
			t = idx[c.name+textSuffix]
		}
		text = append(text, t)
	}
	return ord, cols, text, nil
}

func mysqlToRedis(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	if ds.Kind != spec.KindTable {
		return nil, nil
	}
	l := commentedLayout(ds.DDL)
	if l == nil {
		return nil, nil // a hash per row instead (mysqlToRedisMapped)
	}
	c := &Conversion{Rule: ruleMySQLRedis(l), Source: convertedSource(src, redisEngine), Dataset: redisDataset(ds, l),
		Notes: []string{fmt.Sprintf("the table's COMMENT is %s: each row is a row of the %s layout, in ord order, into Redis database %s", l.marker(), l.name, l.dbOfName(ds.Object))}}
	ord, cols, text, err := mysqlColumns(ds, l)
	if err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("the table is marked %s but is not the table the conversion writes: %v", l.marker(), err))
		return c, nil
	}
	if len(ds.PrimaryKey) != 1 || ds.PrimaryKey[0] != ordColumn {
		c.Refused = append(c.Refused, fmt.Sprintf("the table's primary key is %v, the conversion reads it back in %s order", ds.PrimaryKey, ordColumn))
	} else if err := orderedParts(ds, func(s string) (int64, bool) { n, err := strconv.ParseInt(s, 10, 64); return n, err == nil }); err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("the rows must be read in %s order: %v", ordColumn, err))
	}
	all := append([]int(nil), cols...)
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		cells := make([]cell, len(l.cols))
		var order ordinalOrder
		var row int64
		return &converting{in: in, fn: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
			ords, ok := rec.Column(ord).(*array.Int64)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected array %T", ordColumn, rec.Column(ord))
			}
			out := newRedisRecord(l)
			defer out.rb.Release()
			for i := 0; i < int(rec.NumRows()); i++ {
				row++
				if err := order.next(ords.Value(i)); err != nil {
					return nil, fmt.Errorf("%s %d: %w", ordColumn, ords.Value(i), err)
				}
				if err := readCells(rec, all, i, cells); err != nil {
					return nil, err
				}
				if why := mergeSpecial(rec, l, text, i, cells); why != "" {
					if err := reject(Reject{Row: row - 1, Key: []string{strconv.FormatInt(ords.Value(i), 10)}, Reason: why, Values: rowValues(rec, i)}); err != nil {
						return nil, err
					}
					continue
				}
				out.append(cells)
			}
			return out.rb.NewRecordBatch(), nil
		}}
	}
	return c, nil
}

// mergeSpecial puts a float's companion text back into its cell.
func mergeSpecial(rec arrow.RecordBatch, l *redisLayout, text []int, i int, cells []cell) string {
	for k, t := range text {
		if t < 0 || rec.Column(t).IsNull(i) {
			continue
		}
		s := bundle.KeyString(rec.Column(t), i)
		v, ok := parseSpecial(s)
		if !ok {
			return fmt.Sprintf("column %s%s holds %q, not inf, -inf or -0", l.cols[k].name, textSuffix, s)
		}
		if !cells[k].null {
			return fmt.Sprintf("columns %s and %s%s both hold a value", l.cols[k].name, l.cols[k].name, textSuffix)
		}
		cells[k] = cell{f: v}
	}
	return ""
}
