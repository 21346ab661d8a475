package exposition

import (
	"compress/gzip"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Serve gathers cs and gs and answers r with them in format, which must
// be a text format (expfmt.TypeTextPlain): the response promhttp's
// HandlerFor gives with ContinueOnError, its headers, its gzip
// negotiation and its name[] filter included. Gathering errors are
// logged on errorLog; when nothing was gathered, they are the answer,
// with status 500.
//
// The gzip level is gzip.BestSpeed, where promhttp uses the default
// level: on a node exporter's output that costs about a third of the CPU
// for a few more bytes on the wire.
func Serve(w http.ResponseWriter, r *http.Request, format expfmt.Format, cs []prometheus.Collector, gs []prometheus.Gatherer, errorLog *log.Logger) {
	s, err := Gather(format, cs, gs)
	defer s.Release()
	if err != nil {
		errorLog.Println("error gathering metrics:", err)
		if s.Empty() {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Type", string(format))
	out := io.Writer(w)
	if negotiateGzip(r.Header) {
		h.Set("Content-Encoding", "gzip")
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() {
			_ = gz.Close()
			gzipWriters.Put(gz)
		}()
		out = gz
	}
	var filter map[string]struct{}
	if r.URL != nil {
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			filter = make(map[string]struct{}, len(names))
			for _, name := range names {
				filter[name] = struct{}{}
			}
		}
	}
	if _, err := s.WriteTo(out, filter); err != nil {
		errorLog.Println("error encoding and sending metric family:", err)
	}
}

var gzipWriters = sync.Pool{New: func() any {
	gz, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return gz
}}

// negotiateGzip reports whether promhttp, offering identity and gzip in
// that order, would choose gzip for these request headers: the offer with
// the highest quality wins, the first on a tie.
func negotiateGzip(header http.Header) bool {
	best, bestQ := "identity", -1.0
	for _, offer := range []string{"identity", "gzip"} {
		for _, value := range header.Values("Accept-Encoding") {
			for part := range strings.SplitSeq(value, ",") {
				coding, q, ok := parseCoding(part)
				if ok && q > bestQ && (coding == "*" || coding == offer) {
					best, bestQ = offer, q
				}
			}
		}
	}
	return best == "gzip" && bestQ != 0
}

// parseCoding parses one element of Accept-Encoding: a coding with an
// optional quality ("gzip;q=0.5").
func parseCoding(s string) (coding string, q float64, ok bool) {
	coding, params, hasParams := strings.Cut(s, ";")
	coding = strings.TrimSpace(coding)
	if coding == "" {
		return "", 0, false
	}
	if !hasParams {
		return coding, 1, true
	}
	v, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
	if !found {
		return "", 0, false
	}
	q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || q < 0 || q > 1 {
		return "", 0, false
	}
	return coding, q, true
}
