package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/progress"
)

// The charts are inline SVG drawn here: a few dozen lines, no script, no
// network, so the page opens anywhere offline.

// point is one (x, y) of a line chart.
type point struct{ x, y float64 }

// throughputPoints are the rows per second between consecutive samples.
func throughputPoints(ss []Sample) []point {
	var pts []point
	for i := 1; i < len(ss); i++ {
		dt := ss[i].Seconds - ss[i-1].Seconds
		if dt <= 0 {
			continue
		}
		pts = append(pts, point{ss[i].Seconds, float64(ss[i].Rows-ss[i-1].Rows) / dt})
	}
	return pts
}

const chartW, chartH, padL, padB, padT, padR = 720.0, 220.0, 70.0, 30.0, 12.0, 16.0

// lineChart draws pts as a filled line, x in seconds.
func lineChart(pts []point, yUnit string) template.HTML {
	if len(pts) == 0 {
		return template.HTML(`<p class="muted">The run was too short to sample its throughput.</p>`)
	}
	maxX, maxY := pts[len(pts)-1].x, 0.0
	for _, p := range pts {
		maxY = math.Max(maxY, p.y)
	}
	if maxX <= 0 {
		maxX = 1
	}
	if maxY <= 0 {
		maxY = 1
	}
	sx := func(x float64) float64 { return padL + x/maxX*(chartW-padL-padR) }
	sy := func(y float64) float64 { return chartH - padB - y/maxY*(chartH-padB-padT) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="throughput-chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="throughput over time">`, chartW, chartH)
	for i := 0; i <= 4; i++ {
		y := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="axis" text-anchor="end">%s</text>`,
			padL, chartW-padR, sy(y), sy(y), padL-6, sy(y)+4, template.HTMLEscapeString(short(y)))
	}
	for i := 0; i <= 4; i++ {
		x := maxX * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis" text-anchor="middle">%.3gs</text>`, sx(x), chartH-padB+16, x)
	}
	var line strings.Builder
	fmt.Fprintf(&line, "M%.1f,%.1f", sx(0), sy(pts[0].y))
	for _, p := range pts {
		fmt.Fprintf(&line, " L%.1f,%.1f", sx(p.x), sy(p.y))
	}
	fmt.Fprintf(&b, `<path d="%s L%.1f,%.1f L%.1f,%.1f Z" class="area"/><path d="%s" class="line"/>`, line.String(), sx(maxX), sy(0), sx(0), sy(0), line.String())
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis">%s</text></svg>`, padL+4, padT+10, template.HTMLEscapeString(yUnit))
	return template.HTML(b.String())
}

// sizeBars is the datasets by compressed size, the largest first, the
// ones past the first max summed as one bar.
type sizeBar struct {
	name      string
	part, raw int64
	others    int
}

func sizeBars(ds []Dataset, max int) []sizeBar {
	bars := make([]sizeBar, 0, len(ds))
	for _, d := range ds {
		bars = append(bars, sizeBar{name: d.Name, part: d.PartBytes, raw: d.RawBytes})
	}
	sort.SliceStable(bars, func(i, j int) bool { return bars[i].part > bars[j].part })
	if len(bars) > max {
		rest := sizeBar{}
		for _, b := range bars[max-1:] {
			rest.part += b.part
			rest.raw += b.raw
			rest.others++
		}
		rest.name = fmt.Sprintf("%d other datasets", rest.others)
		bars = append(bars[:max-1], rest)
	}
	return bars
}

// barChart draws each dataset's compressed size (and its uncompressed
// size, when counted, as a lighter bar behind it).
func barChart(ds []Dataset) template.HTML {
	bars := sizeBars(ds, 20)
	if len(bars) == 0 {
		return template.HTML(`<p class="muted">No dataset.</p>`)
	}
	var maxV int64 = 1
	for _, b := range bars {
		maxV = max(maxV, b.part, b.raw)
	}
	const rowH, labelW, w = 22.0, 240.0, 720.0
	h := rowH*float64(len(bars)) + 24
	scale := func(v int64) float64 { return float64(v) / float64(maxV) * (w - labelW - 110) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="size-chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="size per dataset">`, w, h)
	for i, bar := range bars {
		y := float64(i) * rowH
		name := bar.name
		if len(name) > 36 {
			name = "…" + name[len(name)-35:]
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="label" text-anchor="end">%s</text>`, labelW-8, y+15, template.HTMLEscapeString(name))
		if bar.raw > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="16" class="raw"><title>%s uncompressed</title></rect>`, labelW, y+3, scale(bar.raw), progress.HumanBytes(bar.raw))
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="16" class="bar"><title>%s compressed</title></rect>`, labelW, y+3, max(scale(bar.part), 1), progress.HumanBytes(bar.part))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis">%s</text>`, labelW+max(scale(bar.part), scale(bar.raw))+6, y+15, progress.HumanBytes(bar.part))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="10" class="bar"/><text x="%.1f" y="%.1f" class="axis">compressed, in the bundle</text>`, labelW, h-12, labelW+14, h-3)
	if bars[0].raw > 0 || len(bars) > 1 && bars[1].raw > 0 {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="10" class="raw"/><text x="%.1f" y="%.1f" class="axis">uncompressed, as read</text>`, labelW+190, h-12, labelW+204, h-3)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// short renders a count as 1.2k, 3.4M.
func short(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
