// Command memory measures gatewayd's peak memory on large PEC mail.
//
//	go run ./bench/memory            # -mb 100: message size in MB (10^6 bytes); -keep: keep the temp dir
//
// Targets: at most 64 MiB for `gatewayd triage` on a 100 MB message that
// goes through the PEC check, whether its signature is valid or not; at
// most 150 MiB for `gatewayd run` with four mailboxes that each receive one
// such message at the same time.
//
// It builds the gatewayd binary and, in a child process of its own (so that
// the bench's own peak stays small), writes PEC transport envelopes of
// about -mb MB signed by the throwaway CA of internal/pec/pectest:
//
//	(a) pec-valid.eml      validly signed (X-Trasporto: posta-certificata)
//	(b) pec-lookalike.eml  the same headers and multipart/signed structure, the signature part garbage
//	(c) pec-tampered.eml   a real signature over content changed after signing
//
// Then:
//
//  1. `gatewayd triage --rules rules/ferrara --mailbox <Ferrara's PEC box>
//     --pec-trust <the CA root> --at 2026-11-23T10:00:00+01:00 FILE` on each;
//     the triage peak is the child's peak RSS (VmHWM polled every 2 ms from
//     /proc, and its rusage ru_maxrss once reaped, which is its own peak
//     because the bench's is smaller; see peakOf); the JSON's pec.signature
//     is checked, so that each file went the path it is meant to;
//  2. a throwaway Dovecot with four users, one such message APPENDed to each
//     before the daemon starts (the PEC box gets (a), the others (b), (c)
//     and a second valid one); `gatewayd run` in shadow mode (no SMTP) with
//     a copy of rules/ferrara trusting the CA root (pec.ancore_fiducia) and
//     max_message_size 120MB; its VmHWM is polled every 5 ms until all four
//     messages are recorded and moved, read once more, and it gets SIGTERM.
//
// Figures are MiB (2^20 bytes), rounded up. The last line is:
//
//	pec_triage_peak_rss_mb=… daemon_peak_rss_mb=…
//
// Everything runs on loopback, in a temporary directory, and stops by
// itself.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gatewayd/bench/internal/harness"
)

func main() {
	mb := flag.Int("mb", 100, "size of each test message in MB (10^6 bytes)")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	gen := flag.String("generate", "", "(internal) write the test messages into this directory and exit")
	flag.Parse()
	if *gen != "" {
		runGenerator(*gen, *mb)
		return
	}
	if *mb < 1 {
		fmt.Fprintln(os.Stderr, "bench: -mb must be at least 1")
		os.Exit(2)
	}
	h := harness.New("gatewayd-bench-memory-", *keep)
	if err := run(h, *mb); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		h.Close()
		os.Exit(1)
	}
	h.Close()
}

func run(h *harness.H, mb int) error {
	if err := chdirModuleRoot(); err != nil {
		return err
	}
	if os.Getenv("GATEWAYD_TEST_LOG_LEVEL") == "" {
		os.Setenv("GATEWAYD_TEST_LOG_LEVEL", "info") // testenv.Config's log level for the daemon
	}
	bin := filepath.Join(h.Dir, "gatewayd")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gatewayd").CombinedOutput(); err != nil {
		return fmt.Errorf("building gatewayd: %v\n%s", err, out)
	}
	msgs := filepath.Join(h.Dir, "messages")
	if err := os.Mkdir(msgs, 0o755); err != nil {
		return err
	}
	start := time.Now()
	if err := generateInChild(msgs, mb); err != nil {
		return err
	}
	fmt.Printf("generated the test messages in %.1fs:", time.Since(start).Seconds())
	for _, f := range []string{validFile, lookalikeFile, tamperedFile, secondFile} {
		st, err := os.Stat(filepath.Join(msgs, f))
		if err != nil {
			return err
		}
		fmt.Printf(" %s %.1f MB", f, float64(st.Size())/1e6)
	}
	fmt.Println()

	root := filepath.Join(msgs, rootFile)
	var triagePeak int64
	var each []string
	for _, c := range []struct {
		name, file, want string // want: the pec.signature the file must get
	}{{"valid", validFile, "valid"}, {"look-alike", lookalikeFile, "!valid"}, {"tampered", tamperedFile, "invalid"}} {
		kb, err := triage(bin, root, filepath.Join(msgs, c.file), c.want)
		if err != nil {
			return err
		}
		triagePeak = max(triagePeak, kb)
		each = append(each, fmt.Sprintf("%s %d", c.name, toMiB(kb)))
	}
	fmt.Printf("pec triage peak RSS: %d MiB, the largest of %s (target: at most 64)\n", toMiB(triagePeak), strings.Join(each, ", "))

	daemonPeak, err := daemon(h, bin, msgs)
	if err != nil {
		return err
	}
	fmt.Printf("daemon peak RSS: %d MiB (target: at most 150)\n", toMiB(daemonPeak))
	fmt.Printf("bench's own peak RSS: %s\n", mib(selfHWMKB()))
	fmt.Printf("pec_triage_peak_rss_mb=%d daemon_peak_rss_mb=%d\n", toMiB(triagePeak), toMiB(daemonPeak))
	return nil
}

// chdirModuleRoot moves to the module's root, where ./cmd/gatewayd and
// rules/ferrara are.
func chdirModuleRoot() error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return fmt.Errorf("run it inside the gatewayd module (go run ./bench/memory)")
	}
	return os.Chdir(filepath.Dir(mod))
}

// generateInChild runs this program again with -generate.
func generateInChild(dir string, mb int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-generate", dir, "-mb", strconv.Itoa(mb))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("generating the messages: %v", err)
	}
	return nil
}

// triage runs gatewayd triage on one file, checks the signature state it
// reports, and returns its peak RSS in KiB.
func triage(bin, root, file, want string) (int64, error) {
	cmd := exec.Command(bin, "triage", "--rules", "rules/ferrara", "--mailbox", addrPEC,
		"--pec-trust", root, "--at", "2026-11-23T10:00:00+01:00", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	kb, how, err := runMeasured(cmd, 2*time.Millisecond, 5*time.Minute)
	if err != nil {
		return 0, fmt.Errorf("gatewayd triage %s: %v\n%s", filepath.Base(file), err, stderr.Bytes())
	}
	var out struct {
		Decision string   `json:"decision"`
		Reasons  []string `json:"reasons"`
		PEC      struct {
			Envelope  bool   `json:"envelope"`
			Kind      string `json:"kind"`
			Signature string `json:"signature"`
		} `json:"pec"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return 0, fmt.Errorf("gatewayd triage %s: reading its JSON: %v\n%s", filepath.Base(file), err, stdout.Bytes())
	}
	sig := out.PEC.Signature
	ok := out.PEC.Envelope && out.PEC.Kind == "posta-certificata"
	if w, not := strings.CutPrefix(want, "!"); not {
		ok = ok && sig != w
	} else {
		ok = ok && sig == want
	}
	if !ok {
		return 0, fmt.Errorf("gatewayd triage %s: pec %+v, want an envelope with signature %s:\n%s",
			filepath.Base(file), out.PEC, want, stdout.Bytes())
	}
	fmt.Printf("triage %-18s %s %v, signature %-8s %.1fs  peak RSS %s (%s)\n", filepath.Base(file),
		out.Decision, out.Reasons, sig, time.Since(start).Seconds(), mib(kb), how)
	return kb, nil
}
