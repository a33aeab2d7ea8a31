package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of utime and stime in /proc (100 on
// every mainstream architecture).
const clockTick = 100

// ProcStat is a sample of one process from /proc.
type ProcStat struct {
	PID    int
	CPU    time.Duration // utime + stime since the process started
	RSSKiB int64         // resident set size
}

// ReadProc samples pid (0 means this process) from /proc/<pid>/stat and
// /proc/<pid>/status.
func ReadProc(pid int) (ProcStat, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	st := ProcStat{PID: pid}
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return st, err
	}
	st.CPU, err = parseStatCPU(b)
	if err != nil {
		return st, fmt.Errorf("%s/stat: %w", dir, err)
	}
	b, err = os.ReadFile(dir + "/status")
	if err != nil {
		return st, err
	}
	st.RSSKiB, err = parseStatusRSS(b)
	if err != nil {
		return st, fmt.Errorf("%s/status: %w", dir, err)
	}
	return st, nil
}

// parseStatCPU returns utime+stime from the text of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted after its last ')': utime and stime are fields 14 and 15.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command field")
	}
	fields := bytes.Fields(b[i+1:]) // fields[0] is field 3 (state)
	if len(fields) < 13 {
		return 0, fmt.Errorf("only %d fields", len(fields)+2)
	}
	ut, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime %q %q", fields[11], fields[12])
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// parseStatusRSS returns VmRSS in KiB from the text of /proc/<pid>/status.
func parseStatusRSS(b []byte) (int64, error) {
	const key = "VmRSS:"
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, fmt.Errorf("no VmRSS")
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) == 0 {
		return 0, fmt.Errorf("empty VmRSS")
	}
	return strconv.ParseInt(string(f[0]), 10, 64)
}

// ProcSet samples a group of processes (the servers, or Redis) together.
type ProcSet []int

// Sample sums CPU and RSS over the set. Processes that cannot be read are
// reported in err (the others are still summed).
func (ps ProcSet) Sample() (cpu time.Duration, rssKiB int64, err error) {
	for _, pid := range ps {
		st, e := ReadProc(pid)
		if e != nil {
			err = e
			continue
		}
		cpu += st.CPU
		rssKiB += st.RSSKiB
	}
	return cpu, rssKiB, err
}
