package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// vmHWMKB reads a process's peak resident set size (VmHWM, KiB) from
// /proc. It fails once the process has exited (a zombie has no memory).
func vmHWMKB(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%s/status", pid)
}

// poller reads a child's VmHWM every interval until stopped, keeping the
// largest value seen. VmHWM never decreases, so the last successful read
// is the peak up to that moment.
type poller struct {
	mu    sync.Mutex
	kb    int64
	reads int
	stop  chan struct{}
	done  chan struct{}
}

func startPoller(pid int, every time.Duration) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{})}
	id := strconv.Itoa(pid)
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			kb, err := vmHWMKB(id)
			if err != nil {
				return // exited: nothing more to read
			}
			p.mu.Lock()
			p.kb, p.reads = max(p.kb, kb), p.reads+1
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// peak stops the poller and returns the largest VmHWM seen (KiB) and the
// number of reads.
func (p *poller) peak() (int64, int) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kb, p.reads
}

// peakOf combines the polled VmHWM with the child's rusage after it was
// reaped. ru_maxrss of a child is max(its own peak, the parent's peak when
// it forked): Go forks with CLONE_VM, and exec records the old (shared)
// address space's high-water mark in the new process. So ru_maxrss is the
// child's own peak only when it exceeds the bench's own peak at the fork
// (parentKB); the bench keeps that small by generating the messages in a
// child of its own. Otherwise the polled value stands alone.
func peakOf(polledKB int64, st *os.ProcessState, parentKB int64) (kb int64, how string) {
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		return polledKB, "VmHWM polled"
	}
	maxrss := int64(ru.Maxrss) // KiB on Linux
	if maxrss > parentKB {
		if maxrss >= polledKB {
			return maxrss, fmt.Sprintf("rusage ru_maxrss (VmHWM polled: %s)", mib(polledKB))
		}
		return polledKB, fmt.Sprintf("VmHWM polled (rusage: %s)", mib(maxrss))
	}
	return polledKB, fmt.Sprintf("VmHWM polled (rusage %s not above the bench's own %s, so not the child's)", mib(maxrss), mib(parentKB))
}

// selfHWMKB is the bench's own peak RSS, KiB.
func selfHWMKB() int64 {
	kb, _ := vmHWMKB("self")
	return kb
}

// mib formats KiB as MiB (2^20 bytes).
func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// toMiB rounds KiB to whole MiB (2^20 bytes), up.
func toMiB(kb int64) int64 { return (kb + 1023) / 1024 }

// runMeasured runs cmd to its end (killing it after timeout), polling its
// VmHWM every interval, and returns its peak RSS in KiB and how it was
// obtained.
func runMeasured(cmd *exec.Cmd, every, timeout time.Duration) (int64, string, error) {
	parent := selfHWMKB()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	p := startPoller(cmd.Process.Pid, every)
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	polled, _ := p.peak()
	if err != nil {
		return 0, "", err
	}
	kb, how := peakOf(polled, cmd.ProcessState, parent)
	return kb, how, nil
}
