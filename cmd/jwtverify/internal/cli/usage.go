package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// Layout of the flag lists of setUsage: the column the descriptions start
// in and the width they are wrapped to, those of docs/command.md.
const (
	helpIndent = 23
	helpWidth  = 80
)

// setUsage sets fs.Usage, what -h, -help and --help print (and what the
// flag package prints after a flag error), to the help of the subcommand
// fs.Name(), with the flags written as the README writes them:
//
//	usage: jwtverify NAME SYNOPSIS
//
//	ABOUT
//
//	flags:
//	  --alg ALG            allowed algorithm (repeatable); default: derived from the keys
//	  --backend NAME       golang-jwt | jwx | native (default golang-jwt)
//	  --spiffe-bundle TD=SOURCE
//	                       verify JWT-SVIDs of trust domain TD ...
//	  --verbose            ...
//
// The usage line ends after NAME when synopsis is empty; the ABOUT
// paragraph, when about is not empty, is printed as it is; "flags:" and
// the list are left out when fs has no flags. Each flag, in lexical order
// as flag.PrintDefaults lists them, gets two dashes and the placeholder of
// its value: the backquoted word of its usage string (flag.UnquoteUsage;
// a usage string that starts with it and a colon, "`FILE`: a PEM key",
// drops that lead-in, so that the description does not repeat it), or
// else one derived from its type, DURATION for a time.Duration and VALUE
// for a string or any other flag.Value, upper-cased either way; a boolean
// gets none. Descriptions are wrapped at helpWidth and end with
// "(default X)" when the default is not the type's zero value.
//
// The help goes to fs.Output(), so callers set it first. verify, inspect,
// bench and demo use it; the proxy is to call it the same way,
// setUsage(fs, "[flags]", about), once its flags are registered.
func setUsage(fs *flag.FlagSet, synopsis, about string) {
	fs.Usage = func() {
		var b strings.Builder
		b.WriteString("usage: jwtverify " + fs.Name())
		if synopsis != "" {
			b.WriteString(" " + synopsis)
		}
		b.WriteString("\n")
		if about != "" {
			b.WriteString("\n" + strings.TrimRight(about, "\n") + "\n")
		}
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if first {
				b.WriteString("\nflags:\n")
				first = false
			}
			writeFlag(&b, f)
		})
		fmt.Fprint(fs.Output(), b.String())
	}
}

// writeFlag writes f's entry of setUsage's list to b.
func writeFlag(b *strings.Builder, f *flag.Flag) {
	placeholder, text := flag.UnquoteUsage(f)
	if strings.HasPrefix(f.Usage, "`"+placeholder+"`:") {
		text = strings.TrimSpace(text[len(placeholder)+1:])
	}
	placeholder = strings.ToUpper(placeholder)
	if placeholder == "STRING" {
		placeholder = "VALUE"
	}
	switch f.DefValue {
	case "", "0", "0s", "false":
	default:
		text += " (default " + f.DefValue + ")"
	}

	head := "  --" + f.Name
	if placeholder != "" {
		head += " " + placeholder
	}
	b.WriteString(head)
	col := len(head)
	if col > helpIndent-2 {
		b.WriteString("\n")
		col = 0
	}
	b.WriteString(strings.Repeat(" ", helpIndent-col))
	col = helpIndent
	for i, word := range strings.Fields(text) {
		switch {
		case i == 0:
		case col+1+len(word) > helpWidth:
			b.WriteString("\n" + strings.Repeat(" ", helpIndent))
			col = helpIndent
		default:
			b.WriteString(" ")
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	b.WriteString("\n")
}

// flagExit is the exit code of a flag.FlagSet.Parse error, whose message
// (or, for -h, the help) the flag package has already printed: 0 for
// help asked for, ExitUsage otherwise.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitValid
	}
	return ExitUsage
}

// parseInterspersed parses args with fs, flags before or after the
// positional arguments, and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
