package bmcsim

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MediaFetch is what a simulated BMC fetched for a virtual media slot.
type MediaFetch struct {
	Image    string // URL as given by the client
	Inserted bool
	Bytes    int64  // bytes received
	Size     int64  // total size the server reported (-1 unknown)
	SHA256   string // hex, once Done without error
	Ranges   int    // range requests made
	Done     bool   // the whole image was read, or the fetch failed
	Err      string // why the fetch failed
}

type mediaState struct {
	MediaFetch
	writeProtected bool
	fetched        chan struct{} // closed when the fetch ends
	cancel         context.CancelFunc
}

// Limits of the simulated image fetch.
const (
	mediaChunk   = 1 << 20
	mediaMaxSize = 16 << 30
)

func (r *Redfish) slotOK(slot string) bool {
	_, ok := r.tree[sysPath+"/VirtualMedia/"+slot]
	return ok && slot != ""
}

func (r *Redfish) mediaResource(rest string) (map[string]any, bool) {
	if strings.Contains(rest, "/") {
		return r.static(sysPath + "/VirtualMedia/" + rest)
	}
	v, ok := r.static(sysPath + "/VirtualMedia/" + rest)
	if !ok {
		return nil, false
	}
	r.mu.Lock()
	m := r.media[rest]
	var st mediaState
	if m != nil {
		st = *m
	}
	r.mu.Unlock()
	v["Inserted"], v["WriteProtected"] = st.Inserted, st.Inserted && st.writeProtected || !st.Inserted
	v["VerifyCertificate"] = r.o.ImageRoots != nil
	if st.Inserted {
		v["Image"], v["ImageName"], v["ConnectedVia"] = st.Image, path2name(st.Image), "URI"
		v["TransferMethod"] = "Stream"
	} else {
		v["Image"], v["ImageName"], v["ConnectedVia"] = nil, nil, "NotConnected"
	}
	if !r.o.MediaPatchOnly {
		v["Actions"] = map[string]any{
			"#VirtualMedia.InsertMedia": map[string]any{"target": sysPath + "/VirtualMedia/" + rest + "/Actions/VirtualMedia.InsertMedia"},
			"#VirtualMedia.EjectMedia":  map[string]any{"target": sysPath + "/VirtualMedia/" + rest + "/Actions/VirtualMedia.EjectMedia"},
		}
	}
	return v, true
}

func path2name(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	s := p.Path
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// Media returns what was fetched for a slot (CD1, Floppy1).
func (r *Redfish) Media(slot string) MediaFetch {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.media[slot]; m != nil {
		return m.MediaFetch
	}
	return MediaFetch{}
}

// WaitMedia waits until the fetch for a slot has ended (or ctx ends).
func (r *Redfish) WaitMedia(ctx context.Context, slot string) (MediaFetch, error) {
	r.mu.Lock()
	m := r.media[slot]
	r.mu.Unlock()
	if m == nil {
		return MediaFetch{}, fmt.Errorf("bmcsim: nothing inserted in %s", slot)
	}
	select {
	case <-m.fetched:
		return r.Media(slot), nil
	case <-ctx.Done():
		return r.Media(slot), ctx.Err()
	}
}

func (r *Redfish) insertMedia(w http.ResponseWriter, req *http.Request, slot, image string, writeProtected bool) {
	if !r.slotOK(slot) {
		redfishError(w, http.StatusNotFound, "Base.1.5.ResourceMissingAtURI", "No such virtual media slot.")
		return
	}
	u, err := url.Parse(image)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyValueFormatError", "The Image must be an http or https URL.")
		return
	}
	r.mu.Lock()
	if m := r.media[slot]; m != nil && m.Inserted {
		r.mu.Unlock()
		redfishError(w, http.StatusConflict, "Base.1.5.ResourceInUse", "The virtual media slot already holds an image.")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &mediaState{MediaFetch: MediaFetch{Image: image, Inserted: true, Size: -1}, writeProtected: writeProtected,
		fetched: make(chan struct{}), cancel: cancel}
	r.media[slot] = m
	r.mu.Unlock()
	f := r.newFetcher(ctx, image)
	// The first range is read before answering, as BMCs check that the
	// image can be reached; the rest streams in the background.
	if err := f.next(); err != nil {
		cancel()
		r.mu.Lock()
		delete(r.media, slot)
		r.mu.Unlock()
		close(m.fetched)
		redfishError(w, http.StatusBadRequest, "Base.1.5.ResourceCannotBeCreated", "The image could not be read: "+f.safeErr(err))
		return
	}
	r.record(m, f, false, nil)
	go func() {
		defer cancel()
		var err error
		for !f.eof && err == nil {
			err = f.next()
			r.record(m, f, false, nil)
		}
		r.record(m, f, true, err)
	}()
	w.WriteHeader(http.StatusNoContent)
}

func (r *Redfish) record(m *mediaState, f *fetcher, done bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.Bytes, m.Size, m.Ranges = f.off, f.size, f.ranges
	if !done {
		return
	}
	m.Done = true
	if err != nil {
		m.Err = f.safeErr(err)
	} else {
		m.SHA256 = hex.EncodeToString(f.h.Sum(nil))
	}
	close(m.fetched)
}

func (r *Redfish) ejectMedia(w http.ResponseWriter, slot string) {
	if !r.slotOK(slot) {
		redfishError(w, http.StatusNotFound, "Base.1.5.ResourceMissingAtURI", "No such virtual media slot.")
		return
	}
	r.mu.Lock()
	if m := r.media[slot]; m != nil {
		m.cancel()
		m.Inserted = false
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *Redfish) patchMedia(w http.ResponseWriter, req *http.Request, slot string, body map[string]any) {
	if !r.slotOK(slot) {
		redfishError(w, http.StatusNotFound, "Base.1.5.ResourceMissingAtURI", "No such virtual media slot.")
		return
	}
	img, hasImg := body["Image"]
	ins, _ := body["Inserted"].(bool)
	wp, okWP := body["WriteProtected"].(bool)
	switch {
	case hasImg && img == nil, hasImg && img == "", !ins && !hasImg:
		r.ejectMedia(w, slot)
	case hasImg:
		s, _ := img.(string)
		r.insertMedia(w, req, slot, s, wp || !okWP)
	default:
		redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyMissing", "Image is required to insert media.")
	}
}

// fetcher reads an image with HTTP range requests, hashing as it goes.
type fetcher struct {
	ctx    context.Context
	url    string
	hc     *http.Client
	h      hash.Hash
	off    int64
	size   int64
	ranges int
	eof    bool
}

func (r *Redfish) newFetcher(ctx context.Context, image string) *fetcher {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: r.o.ImageRoots}
	if r.o.ImageRoots == nil {
		tlsCfg.InsecureSkipVerify = true // VerifyCertificate false, as BMCs ship
	}
	tr := &http.Transport{
		Proxy: nil, TLSClientConfig: tlsCfg,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ResponseHeaderTimeout: 15 * time.Second,
	}
	return &fetcher{ctx: ctx, url: image, hc: &http.Client{Transport: tr, Timeout: time.Minute}, h: sha256.New(), size: -1}
}

// safeErr is an error text without the image URL (it may hold a token).
func (f *fetcher) safeErr(err error) string {
	s := err.Error()
	s = strings.ReplaceAll(s, f.url, "<image>")
	if u, perr := url.Parse(f.url); perr == nil && u.RawQuery != "" {
		s = strings.ReplaceAll(s, u.RawQuery, "<query>")
	}
	return s
}

// next reads one range.
func (f *fetcher) next() error {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", f.off, f.off+mediaChunk-1))
	req.Header.Set("User-Agent", "bmcsim-virtual-media")
	f.ranges++
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, err := contentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return err
		}
		if start != f.off {
			return fmt.Errorf("range starts at %d, asked for %d", start, f.off)
		}
		f.size = total
	case http.StatusOK:
		if f.off != 0 {
			return errors.New("the server ignored the range request mid-image")
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if f.size == f.off || f.off == 0 {
			f.eof = true
			return nil
		}
		return errors.New("range not satisfiable")
	default:
		return fmt.Errorf("image server answered %d", resp.StatusCode)
	}
	n, err := io.Copy(f.h, io.LimitReader(resp.Body, mediaMaxSize-f.off+1))
	f.off += n
	if err != nil {
		return err
	}
	if f.off > mediaMaxSize {
		return errors.New("image larger than the simulator's limit")
	}
	if resp.StatusCode == http.StatusOK || (f.size >= 0 && f.off >= f.size) || n == 0 {
		f.eof = true
		if resp.StatusCode == http.StatusOK {
			f.size = f.off
		}
	}
	return nil
}

// contentRange parses "bytes START-END/TOTAL".
func contentRange(s string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	a, _, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bad Content-Range %q", s)
		}
	}
	return start, total, nil
}
