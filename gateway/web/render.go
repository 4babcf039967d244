package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates holds one parsed template set per page (each page with the
// shared layout).
type templates struct {
	pages map[string]*template.Template
}

// recordTable is what the "records" template shows: the records and whether
// each number links to its detail page (the audit page's, for audit.read).
type recordTable struct {
	Records []audit.Record
	Link    bool
}

var funcs = template.FuncMap{
	"linked": func(recs []audit.Record) recordTable { return recordTable{Records: recs, Link: true} },
	"plain":  func(recs []audit.Record) recordTable { return recordTable{Records: recs} },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
}

func parseTemplates() (*templates, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		p, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		name := n[len("templates/") : len(n)-len(".html")]
		t.pages[name] = p
	}
	return t, nil
}

// page is the data every page gets.
type page struct {
	Session *Session
	CSRF    string
	Audit   bool // the user may search the audit log
	// SSHCerts: the gateway issues SSH certificates to this login.
	SSHCerts bool
	// Moderate: the user may see the live sessions (session.join).
	Moderate bool
	Data     any
}

// render writes a page. Pages render to a buffer first so an error never
// leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p := page{Data: data}
	if ss := SessionFrom(r.Context()); ss != nil {
		p.Session, p.CSRF = ss, ss.CSRF
		p.SSHCerts = s.certs != nil && ss.Method == methodOIDC
		if c, ok := CallerFrom(r.Context()); ok {
			p.Audit = s.svc.Allowed(c, "audit.read")
			p.Moderate = s.svc.Allowed(c, "session.join")
		}
	}
	t := s.tmpl.pages[name]
	var buf bytes.Buffer
	if t == nil {
		s.log.Error("no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, p); err != nil {
		s.log.Error("template failed", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows a plain message.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", map[string]any{"Message": msg})
}

// staticHandler serves the stylesheet and the small script: files only,
// never a directory listing (a directory, or a path ending in "/", is 404).
func staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/")
		if !ok || !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		if fi, err := fs.Stat(staticFS, name); err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeFileFS(w, r, staticFS, name)
	})
}
