package sysprobe

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// mount is one line of /proc/self/mountinfo (proc(5)).
type mount struct {
	root       string   // path within the file system that is mounted here
	mountPoint string   // where it is mounted
	fsType     string   // cgroup, cgroup2, ext4, ...
	source     string   // device or source
	superOpts  []string // per-superblock options; v1 cgroup controllers live here
}

// parseMountInfo parses /proc/self/mountinfo:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
func parseMountInfo(data string) ([]mount, error) {
	var mounts []mount
	for i, line := range strings.Split(data, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		before, after, ok := strings.Cut(line, " - ")
		if !ok {
			return nil, fmt.Errorf("mountinfo line %d: no \" - \" separator", i+1)
		}
		pre := strings.Fields(before)
		post := strings.Fields(after)
		if len(pre) < 5 || len(post) < 2 {
			return nil, fmt.Errorf("mountinfo line %d: %d+%d fields, want at least 5+2", i+1, len(pre), len(post))
		}
		m := mount{
			root:       unescapeMountField(pre[3]),
			mountPoint: unescapeMountField(pre[4]),
			fsType:     post[0],
			source:     unescapeMountField(post[1]),
		}
		if len(post) > 2 {
			m.superOpts = strings.Split(post[2], ",")
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// unescapeMountField undoes the kernel's octal escapes (\040 for a space,
// \011 tab, \012 newline, \134 backslash) in mountinfo paths.
func unescapeMountField(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountFor returns the mount with the longest mount point that contains p
// (an absolute, clean path), and false when none does.
func mountFor(mounts []mount, p string) (mount, bool) {
	var best mount
	found := false
	for _, m := range mounts {
		if !pathWithin(p, m.mountPoint) {
			continue
		}
		// Later lines shadow earlier ones on the same mount point.
		if !found || len(m.mountPoint) >= len(best.mountPoint) {
			best, found = m, true
		}
	}
	return best, found
}

// pathWithin reports whether p is dir or lies below it. Both are absolute.
func pathWithin(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
