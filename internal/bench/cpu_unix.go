//go:build unix

package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pidCPU is the CPU time process pid has used, user and system, from
// /proc (zero where there is none).
func pidCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	return ticks(f[11:13])
}

// statFields are the fields of /proc/pid/stat after the command name
// (which may hold spaces), from the state on; nil where there are none.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

// ticks adds up clock-tick counts (utime, stime, ...) as a duration.
func ticks(fields []string) time.Duration {
	var n int64
	for _, f := range fields {
		v, _ := strconv.ParseInt(f, 10, 64)
		n += v
	}
	return time.Duration(n) * time.Second / 100
}

// postmaster is the pid of the PostgreSQL server that runs backend, if
// that server runs on this machine where this process can see it.
func postmaster(backend int) (int, bool) {
	f := statFields(backend)
	if len(f) < 2 {
		return 0, false
	}
	pm, err := strconv.Atoi(f[1]) // the backend's parent
	if err != nil {
		return 0, false
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pm)); err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return 0, false
	}
	return pm, true
}

// serverCPU is the CPU time the PostgreSQL server whose postmaster is pm
// has used: the postmaster and every backend and helper, live or gone.
func serverCPU(pm int) (time.Duration, bool) {
	f := statFields(pm)
	if len(f) < 15 {
		return 0, false
	}
	// Its own time and its children's that have exited (utime, stime,
	// cutime, cstime), then each live child's.
	cpu := ticks(f[11:15])
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pm, pm))
	if err != nil {
		return 0, false
	}
	for _, k := range strings.Fields(string(kids)) {
		if pid, err := strconv.Atoi(k); err == nil {
			cpu += pidCPU(pid)
		}
	}
	return cpu, true
}
