// Package reltime tells the distance between two instants the way the
// rejection texts and the command show it: "42s", "5m", "1h59m", "3d4h",
// "15y218d".
package reltime

import (
	"strconv"
	"time"
)

// Short formats to − from, which must not be negative: whole seconds in
// the largest unit of y (365 days), d, h, m and s that fits, followed by
// the next smaller unit when that is not zero: "0s", "42s", "5m", "1h59m",
// "3d4h", "15y214d". It counts seconds from the dates themselves, so that
// a date centuries away, beyond what a time.Duration holds, is still told
// right.
func Short(from, to time.Time) string {
	s := to.Unix() - from.Unix()
	if to.Nanosecond() < from.Nanosecond() {
		s-- // only whole seconds count
	}
	units := [...]struct {
		secs int64
		name string
	}{{365 * 86400, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	i := 0
	for i < len(units)-1 && s < units[i].secs {
		i++
	}
	out := strconv.FormatInt(s/units[i].secs, 10) + units[i].name
	if i+1 < len(units) {
		if r := s % units[i].secs / units[i+1].secs; r > 0 {
			out += strconv.FormatInt(r, 10) + units[i+1].name
		}
	}
	return out
}
