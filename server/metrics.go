package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are Recap's Prometheus metrics, on a registry of their own (no
// global state). The poller's side is fed by main through ObserveFetch.
type Metrics struct {
	reg        *prometheus.Registry
	fetches    *prometheus.CounterVec
	fetchTime  prometheus.Histogram
	stored     *prometheus.CounterVec
	requests   *prometheus.CounterVec
	reqTime    *prometheus.HistogramVec
	queueDepth func() int
}

// NewMetrics registers every metric; queueDepth reports the poller's queue
// (nil: always 0).
func NewMetrics(queueDepth func() int) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recap_fetches_total", Help: "Feed fetches by outcome: ok, not_modified or error.",
		}, []string{"outcome"}),
		fetchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "recap_fetch_duration_seconds", Help: "Time to fetch, parse and store one feed.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recap_articles_stored_total", Help: "Articles stored, by kind: new or updated.",
		}, []string{"kind"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recap_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		reqTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "recap_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"route"}),
		queueDepth: queueDepth,
	}
	if m.queueDepth == nil {
		m.queueDepth = func() int { return 0 }
	}
	m.reg.MustRegister(m.fetches, m.fetchTime, m.stored, m.requests, m.reqTime,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "recap_poll_queue_depth", Help: "Sources being fetched or waiting for a worker.",
		}, func() float64 { return float64(m.queueDepth()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, o := range []string{"ok", "not_modified", "error"} {
		m.fetches.WithLabelValues(o) // show zeros before the first fetch
	}
	return m
}

// ObserveFetch records one poll of a source.
func (m *Metrics) ObserveFetch(outcome string, took time.Duration, newArticles, updated int) {
	m.fetches.WithLabelValues(outcome).Inc()
	m.fetchTime.Observe(took.Seconds())
	m.stored.WithLabelValues("new").Add(float64(newArticles))
	m.stored.WithLabelValues("updated").Add(float64(updated))
}

func (m *Metrics) observeRequest(route string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.reqTime.WithLabelValues(route).Observe(took.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
