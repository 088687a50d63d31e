package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"
	"time"
)

// TestSetUsage: the help setUsage makes lists every flag in lexical
// order with two dashes and its placeholder (backquoted, upper-cased,
// its "`X`:" lead-in dropped; else DURATION, VALUE, INT from the type;
// none for a boolean), descriptions from column 23 wrapped at 80, the
// default when not zero; it goes to fs.Output().
func TestSetUsage(t *testing.T) {
	fs := flag.NewFlagSet("frob", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Bool("dry-run", false, "change nothing")
	fs.Bool("color", true, "colour the output")
	fs.Int("count", 3, "how many")
	fs.String("file", "", "read the `path` given")
	fs.String("mode", "fast", "`MODE`: fast | slow")
	fs.String("name", "", "a name")
	fs.Var(&list{}, "tag", "a tag (repeatable)")
	fs.Duration("timeout", 5*time.Second, "give up after this long")
	fs.Duration("wait", 0, "time to wait")
	fs.String("a-very-long-flag-name", "", "`PLACEHOLDER`: a description long enough that it has to be wrapped onto further lines at eighty columns, the way docs/command.md writes them")
	setUsage(fs, "[flags] THING", "About frob.")

	if err := fs.Parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) || flagExit(err) != ExitValid {
		t.Fatalf("--help: %v", err)
	}
	const want = `usage: jwtverify frob [flags] THING

About frob.

flags:
  --a-very-long-flag-name PLACEHOLDER
                       a description long enough that it has to be wrapped onto
                       further lines at eighty columns, the way docs/command.md
                       writes them
  --color              colour the output (default true)
  --count INT          how many (default 3)
  --dry-run            change nothing
  --file PATH          read the path given
  --mode MODE          fast | slow (default fast)
  --name VALUE         a name
  --tag VALUE          a tag (repeatable)
  --timeout DURATION   give up after this long (default 5s)
  --wait DURATION      time to wait
`
	if out.String() != want {
		t.Fatalf("help:\n%s\nwant:\n%s", out.String(), want)
	}

	// A flag error prints the message, then the same help; exit 2.
	out.Reset()
	if err := fs.Parse([]string{"--nope"}); err == nil || flagExit(err) != ExitUsage || !bytes.HasSuffix(out.Bytes(), []byte(want)) {
		t.Fatalf("bad flag: %v\n%s", err, out.String())
	}

	// No synopsis, no about, no flags: the usage line alone.
	bare := flag.NewFlagSet("bare", flag.ContinueOnError)
	out.Reset()
	bare.SetOutput(&out)
	setUsage(bare, "", "")
	bare.Usage()
	if out.String() != "usage: jwtverify bare\n" {
		t.Fatalf("bare help: %q", out.String())
	}
}

// TestParseInterspersed: flags may come before, between and after the
// positional arguments, which keep their order.
func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	a := fs.String("a", "", "")
	b := fs.Bool("b", false, "")
	got, err := parseInterspersed(fs, []string{"one", "--a", "v", "two", "--b", "-"})
	if err != nil || len(got) != 3 || got[0] != "one" || got[1] != "two" || got[2] != "-" || *a != "v" || !*b {
		t.Fatalf("got %q, %v; a %q, b %v", got, err, *a, *b)
	}
	if _, err := parseInterspersed(fs, []string{"one", "--c"}); err == nil {
		t.Fatal("an unknown flag after an argument was accepted")
	}
}
