package redis_test

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/redistype"
)

func newRows(rec arrow.RecordBatch) (*redistype.Rows, error) { return redistype.NewRows(rec) }
