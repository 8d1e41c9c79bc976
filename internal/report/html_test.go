package report_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/report"
)

// TestHTML_selfContained: the page fetches nothing and runs nothing, and
// is laid out for A4.
func TestHTML_selfContained(t *testing.T) {
	page, _ := htmlReport(t)
	for _, bad := range []string{"<script", "src=", "href=", "url(", "@import", "https:", "<link", "<iframe", "<object"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if strings.Count(page, "http:") != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the page names an http: address other than the SVG namespace")
	}
	for _, want := range []string{"@page { size: A4", "@media print", `<svg class="chart"`, "Ritardatario@Studio.it"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestHTML_chromium renders the page in headless Chromium: the DOM it
// builds has the three charts with their bars and the totals; printed to
// PDF it is A4; its screenshot shows the charts' colours.
func TestHTML_chromium(t *testing.T) {
	bin := chromium(t)
	_, path := htmlReport(t)
	c := built(t)
	dom := runChromium(t, bin, "--dump-dom", "file://"+path)
	charts := map[string]int{ // chart → the bars it must draw
		"chart-activity":    3 * len(c.Periods), // received, in time, late per week
		"chart-refusals":    3,                  // missing-gestione, missing-summary, invalid-codice-fiscale
		"chart-reply-times": 12,                 // 0 … 11 working days
	}
	for id, bars := range charts {
		fig := between(dom, `<figure id="`+id+`">`, "</figure>")
		if !strings.Contains(fig, "<svg") {
			t.Errorf("%s: no <svg> in the DOM", id)
			continue
		}
		got := regexp.MustCompile(`<rect class="bar"[^>]* height="([0-9.]+)"`).FindAllStringSubmatch(fig, -1)
		tall := 0
		for _, m := range got {
			if h, _ := strconv.ParseFloat(m[1], 64); h > 0 {
				tall++
			}
		}
		if len(got) != bars || tall == 0 {
			t.Errorf("%s: %d bars (%d drawn taller than 0), want %d", id, len(got), tall, bars)
		}
	}
	totals := between(dom, `<section id="totals">`, "</section>")
	// Columns: gestione-credito, anagrafica-flussi, pec, all.
	for _, want := range []string{"<td>Received</td><td>12</td><td>3</td><td>0</td><td>15</td>",
		"<td>Answered in time</td><td>3</td><td>3</td><td>0</td><td>6</td>",
		"<td>Answered late</td><td>1</td><td>0</td><td>0</td><td>1</td>",
		"<td>Median reply time (working days)</td><td>4</td><td>5</td><td>-</td><td>4</td>",
		"<td>Protocol numbers annulled</td><td>1</td><td>0</td><td>0</td><td>1</td>"} {
		if !strings.Contains(totals, want) {
			t.Errorf("the totals lack %s:\n%s", want, totals)
		}
	}
	pdf := filepath.Join(t.TempDir(), "r.pdf")
	runChromium(t, bin, "--print-to-pdf="+pdf, "--no-pdf-header-footer", "file://"+path)
	checkPDF(t, pdf)
	shot := filepath.Join(t.TempDir(), "r.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=900,2600", "file://"+path)
	checkScreenshot(t, shot)
	if keep := os.Getenv("GATEWAYD_REPORT_KEEP"); keep != "" { // to look at them
		for _, f := range []string{path, pdf, shot} {
			b, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o600)
		}
	}
}

// built is the scenario's report, with an annulment, over its three weeks.
func built(t *testing.T) *report.Compliance {
	t.Helper()
	o := scenario(t)
	o.annul("INPS.FE.2026.0000001", rome(2026, 12, 10, 10, 0))
	return build(t, o, rome(2026, 11, 30, 0, 0), rome(2026, 12, 20, 0, 0), "", "")
}

// htmlReport writes the scenario's report as HTML to a file.
func htmlReport(t *testing.T) (string, string) {
	t.Helper()
	var b bytes.Buffer
	if err := report.HTML(&b, built(t)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.html")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return b.String(), path
}

// chromium returns Debian's chromium, or skips (fails under CI, where
// scripts/test installs it).
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing (scripts/test installs Debian's chromium package)")
	}
	t.Skip("chromium is missing: apt-get install chromium (scripts/test does)")
	return ""
}

// runChromium runs headless Chromium on its own profile, offline.
func runChromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// checkPDF: a PDF of A4 pages (595 × 842 points), of some substance.
func checkPDF(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) || len(b) < 20_000 {
		t.Fatalf("the PDF: %d bytes, %v", len(b), err)
	}
	boxes := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]`).FindAllSubmatch(b, -1)
	if len(boxes) == 0 {
		t.Fatal("the PDF has no page")
	}
	for _, m := range boxes {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		if w < 593 || w > 597 || h < 840 || h > 844 {
			t.Errorf("a PDF page is %.0f × %.0f points, want A4 (595 × 842)", w, h)
		}
	}
}

// checkScreenshot: the page's screenshot shows each chart colour over
// many pixels, and is not mostly blank.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	colours := map[[3]uint32]string{{0x5b, 0x7f, 0xa6}: "received", {0x3f, 0x8f, 0x5a}: "in time", {0xc8, 0x55, 0x3d}: "late",
		{0xa8, 0x74, 0x3a}: "refusals"}
	seen, ink := map[string]int{}, 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			rgb := pixel(img, x, y)
			if name, ok := colours[rgb]; ok {
				seen[name]++
			}
			if rgb != [3]uint32{0xff, 0xff, 0xff} {
				ink++
			}
		}
	}
	for _, name := range colours {
		if seen[name] < 100 {
			t.Errorf("the screenshot shows %d pixels of the %s colour", seen[name], name)
		}
	}
	if total := bounds.Dx() * bounds.Dy(); ink < total/50 {
		t.Errorf("the screenshot is nearly blank: %d of %d pixels", ink, total)
	}
}

func pixel(img image.Image, x, y int) [3]uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint32{r >> 8, g >> 8, b >> 8}
}

// between returns s from the first start to the end after it.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, end)
	return in
}
