package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuSample is the CPU time used so far by a measurement's parties and by
// the whole machine, to tell whose CPU a rate was bounded by.
type cpuSample struct {
	at          time.Time
	self        time.Duration // this process: the minimal clients
	selfWait    time.Duration // its time runnable but waiting for a core
	imap        time.Duration // the test Dovecot's imap processes
	imapWait    time.Duration // their time runnable but waiting for a core
	busy, total uint64        // the machine's busy and total ticks, all cores
}

// sampleCPU reads the sample; master is the test Dovecot's pid.
func sampleCPU(master int) cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	s.selfWait = runDelay(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if ppid, comm, cpu, ok := procStat(pid); ok && ppid == master && comm == "imap" {
			s.imap += cpu
			s.imapWait += runDelay(pid)
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, f := range strings.Fields(line)[1:] {
			v, _ := strconv.ParseUint(f, 10, 64)
			s.total += v
			if i != 3 && i != 4 { // idle, iowait
				s.busy += v
			}
		}
	}
	return s
}

// procStat reads a process's parent, name and CPU time (user + system).
func procStat(pid int) (ppid int, comm string, cpu time.Duration, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", 0, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return 0, "", 0, false
	}
	f := strings.Fields(string(b[end+1:])) // from the state, field 3
	if len(f) < 13 {
		return 0, "", 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, string(b[open+1 : end]), time.Duration(utime+stime) * clockTick, true
}

// runDelay reads how long a process's threads waited on a run queue
// (/proc/PID/task/*/schedstat, second field).
func runDelay(pid int) time.Duration {
	var d time.Duration
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		if b, err := os.ReadFile(t); err == nil {
			if f := strings.Fields(string(b)); len(f) >= 2 {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				d += time.Duration(ns)
			}
		}
	}
	return d
}

// dovecotPid finds the test Dovecot's master process by its configuration.
func dovecotPid(root string) (int, error) {
	want := filepath.Join(root, "dovecot.conf")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && bytes.Contains(b, []byte(want+"\x00")) {
			return strconv.Atoi(filepath.Base(d))
		}
	}
	return 0, fmt.Errorf("no dovecot process with %s", want)
}

// cpuUse is what a measurement cost between two samples.
type cpuUse struct {
	wall, client, imap   time.Duration
	clientWait, imapWait time.Duration // runnable, waiting for a core
	machineBusy          float64       // of all cores, 0–1
}

func (a cpuSample) to(b cpuSample) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at), client: b.self - a.self, imap: b.imap - a.imap,
		clientWait: b.selfWait - a.selfWait, imapWait: b.imapWait - a.imapWait}
	if t := b.total - a.total; t > 0 {
		u.machineBusy = float64(b.busy-a.busy) / float64(t)
	}
	return u
}

func (u cpuUse) String() string {
	return fmt.Sprintf("over %.2fs: client CPU %.2fs (%.2fs waiting for a core), Dovecot imap %.2fs (%.2fs waiting); machine %.0f %% busy",
		u.wall.Seconds(), u.client.Seconds(), u.clientWait.Seconds(), u.imap.Seconds(), u.imapWait.Seconds(), 100*u.machineBusy)
}
