package convert

import (
	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// CellValue is row i of a table column as a mapping's expressions see it
// (filterValue: integers as int, floats as float64, times as time.Time,
// NULL as nil), for checks evaluated outside this package.
func CellValue(col arrow.Array, i int) any { return filterValue(col, i) }

// DocValue is a document field's value as document expressions see it.
func DocValue(v bson.RawValue) any { return bsonAny(v) }
