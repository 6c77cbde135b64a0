package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/imbundle/imbundle/progress"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"bytes": func(n int64) string { return progress.HumanBytes(n) },
	"secs":  func(s float64) string { return fmt.Sprintf("%.2f\u00a0s", s) },
	"time":  func(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") },
	"throughputChart": func(r *Report) template.HTML {
		return lineChart(throughputPoints(r.Throughput), "rows per second")
	},
	"sizeChart": func(r *Report) template.HTML { return barChart(r.Datasets) },
}).Parse(pageHTML))

// WriteHTML writes r as one self-contained HTML page: inline style and
// SVG charts, no script, nothing fetched.
func WriteHTML(w io.Writer, r *Report) error {
	return page.Execute(w, r)
}
