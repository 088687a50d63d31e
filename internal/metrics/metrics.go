// Package metrics writes the Prometheus text exposition format (version
// 0.0.4) for the command's few metrics: counters and histograms with
// labels, and gauges read at scrape time. It replaces a dependency on
// prometheus/client_golang, which would otherwise enter the library's
// go.mod for the benefit of one subcommand.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds metrics and serves them. Safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(w io.Writer)
}

// labels renders label pairs (name, value, name, value, ...).
func labels(pairs []string) string {
	if len(pairs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i])
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(pairs[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func header(w io.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func num(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Counter is a counter with labels.
type Counter struct {
	name, help string
	mu         sync.Mutex
	vals       map[string]float64
}

// Counter registers and returns a counter.
func (r *Registry) Counter(name, help string) *Counter {
	c := &Counter{name: name, help: help, vals: map[string]float64{}}
	r.add(c)
	return c
}

// Inc adds one to the series of the label pairs.
func (c *Counter) Inc(pairs ...string) {
	l := labels(pairs)
	c.mu.Lock()
	c.vals[l]++
	c.mu.Unlock()
}

// Value returns the series' value.
func (c *Counter) Value(pairs ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vals[labels(pairs)]
}

func (c *Counter) write(w io.Writer) {
	header(w, c.name, c.help, "counter")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range sortedKeys(c.vals) {
		fmt.Fprintf(w, "%s%s %s\n", c.name, l, num(c.vals[l]))
	}
}

// Histogram is a histogram with labels and fixed upper bounds.
type Histogram struct {
	name, help string
	bounds     []float64
	mu         sync.Mutex
	series     map[string]*hist
}

type hist struct {
	counts []uint64 // per bound, not cumulative
	sum    float64
	count  uint64
}

// Histogram registers and returns a histogram with the given upper bounds.
func (r *Registry) Histogram(name, help string, bounds []float64) *Histogram {
	h := &Histogram{name: name, help: help, bounds: append([]float64(nil), bounds...), series: map[string]*hist{}}
	sort.Float64s(h.bounds)
	r.add(h)
	return h
}

// Observe records v in the series of the label pairs.
func (h *Histogram) Observe(v float64, pairs ...string) {
	l := labels(pairs)
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.series[l]
	if !ok {
		s = &hist{counts: make([]uint64, len(h.bounds))}
		h.series[l] = s
	}
	i := sort.SearchFloat64s(h.bounds, v)
	if i < len(h.bounds) {
		s.counts[i]++
	}
	s.sum += v
	s.count++
}

func (h *Histogram) write(w io.Writer) {
	header(w, h.name, h.help, "histogram")
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.series))
	for k := range h.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, l := range keys {
		s := h.series[l]
		inner := strings.TrimSuffix(strings.TrimPrefix(l, "{"), "}")
		if inner != "" {
			inner += ","
		}
		var cum uint64
		for i, b := range h.bounds {
			cum += s.counts[i]
			fmt.Fprintf(w, "%s_bucket{%sle=%q} %d\n", h.name, inner, num(b), cum)
		}
		fmt.Fprintf(w, "%s_bucket{%sle=\"+Inf\"} %d\n", h.name, inner, s.count)
		fmt.Fprintf(w, "%s_sum%s %s\n%s_count%s %d\n", h.name, l, num(s.sum), h.name, l, s.count)
	}
}

// GaugeFunc is a gauge read when scraped; ok false omits the sample.
type GaugeFunc struct {
	name, help string
	fn         func() (float64, bool)
}

// GaugeFunc registers a gauge read from fn at each scrape.
func (r *Registry) GaugeFunc(name, help string, fn func() (float64, bool)) {
	r.add(&GaugeFunc{name: name, help: help, fn: fn})
}

func (g *GaugeFunc) write(w io.Writer) {
	header(w, g.name, g.help, "gauge")
	if v, ok := g.fn(); ok {
		fmt.Fprintf(w, "%s %s\n", g.name, num(v))
	}
}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// Write writes every metric in the text format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range ms {
		m.write(w)
	}
}

// Handler serves the metrics at any path.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.Write(w)
	})
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
