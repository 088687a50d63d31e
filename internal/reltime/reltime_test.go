package reltime

import (
	"testing"
	"time"
)

func TestShort(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		0:                                  "0s",
		42 * time.Second:                   "42s",
		5 * time.Minute:                    "5m",
		5*time.Minute + 30*time.Second:     "5m30s",
		time.Hour + 59*time.Minute + 59e9:  "1h59m",
		76 * time.Hour:                     "3d4h",
		48 * time.Hour:                     "2d",
		(15*365 + 218) * 24 * time.Hour:    "15y218d",
		999 * time.Millisecond:             "0s",
		time.Second + 999*time.Millisecond: "1s",
	} {
		if got := Short(at, at.Add(d)); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
	if got := Short(at, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)); got != "7978y138d" {
		t.Errorf("to 9999: %q", got)
	}
}
