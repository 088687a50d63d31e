package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/reject"
	"github.com/jwtverify/jwtverify/internal/reltime"
)

// unverifiedBanner is the first line of inspect's output.
const unverifiedBanner = "UNVERIFIED: the signature was not checked; nothing below is trusted"

// Bounds of a NumericDate, those the library accepts (RFC 7519 §2, years
// 1970 to 9999); inspect shows a date outside them as one verify refuses.
const (
	minNumericDate = 0
	maxNumericDate = 253402300799
)

// runInspect decodes a token without verifying it and prints its header
// and claims, marked unverified, with its dates made readable. The token
// goes through the strict front end Verify uses (jws.Parse, then jsonx for
// the header and the payload); one it refuses is exit 1 with the reason,
// in the one line verify prints, without the token.
func runInspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	now := fs.String("now", "", "tell the dates' distance as of `TIME` (RFC 3339 or Unix seconds); default: the clock")
	setUsage(fs, "[flags] [TOKEN]", `Prints TOKEN's header and claims decoded and UNVERIFIED: neither its
signature nor its claims are checked. exp, nbf and iat are also shown as
RFC 3339 times with their distance from now. TOKEN from the argument, or
stdin when absent or "-"; a leading "Bearer " is stripped. Exit 0: decoded;
1: not a strict compact JWS (the reason on stderr); 2: usage error.`)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(positional) > 1 {
		return usageErr(stderr, "more than one TOKEN argument")
	}
	if err := applyEnv(fs, os.Getenv); err != nil {
		return usageErr(stderr, err.Error())
	}
	at, err := asOf(*now)
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	token, err := readToken(positional, stdin)
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	p, err := decodeUnverified(token)
	if err != nil {
		fmt.Fprintf(stderr, "jwtverify: rejected: %v\n", err)
		return ExitRejected
	}
	var out bytes.Buffer
	out.WriteString(unverifiedBanner + "\n")
	for _, s := range []struct {
		name string
		json []byte
	}{{"header", p.Header}, {"claims", p.Payload}} {
		var indented bytes.Buffer
		if err := json.Indent(&indented, bytes.TrimSpace(s.json), "", "  "); err != nil {
			fmt.Fprintf(stderr, "jwtverify: rejected: %v: %s cannot be printed\n", reject.ErrMalformed, s.name)
			return ExitRejected
		}
		out.WriteString(s.name + ":\n")
		for line := range strings.Lines(indented.String()) {
			out.WriteString(escapeUnprintable(strings.TrimSuffix(line, "\n")) + "\n")
		}
	}
	writeDates(&out, p.Payload, at)
	fmt.Fprintf(&out, "signature: %d bytes, not checked\n", len(p.Signature))
	stdout.Write(out.Bytes())
	return ExitValid
}

// writeDates writes the "dates:" section of inspect for the exp, nbf and
// iat members of payload, a strict JSON object, one line each, in that
// order, as seen from now:
//
//	exp  1780318800  2026-06-01T13:00:00Z  (in 182d)
//
// A member that is not a number, or not a date verify accepts, is shown
// as such. Nothing is written when payload has none of them.
func writeDates(w io.Writer, payload []byte, now time.Time) {
	names := [...]string{"exp", "nbf", "iat"}
	var raw [len(names)][]byte
	_ = jsonx.Object(payload, func(name, value []byte) error {
		for i, n := range names {
			if string(name) == n {
				raw[i] = bytes.Clone(value) // value is valid during the call only
			}
		}
		return nil
	})
	header := false
	for i, v := range raw {
		if v == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w, "dates:")
			header = true
		}
		f, err := strconv.ParseFloat(string(v), 64)
		switch {
		case !jsonx.IsNumber(v):
			fmt.Fprintf(w, "  %s  not a number: verify rejects the token as malformed\n", names[i])
		case err != nil || f < minNumericDate || f > maxNumericDate:
			fmt.Fprintf(w, "  %s  %s  not a date between 1970 and 9999: verify rejects the token as malformed\n", names[i], v)
		default:
			sec, frac := math.Modf(f)
			t := time.Unix(int64(sec), int64(frac*1e9))
			fmt.Fprintf(w, "  %s  %s  %s  (%s)\n", names[i], v, dateText(t), relative(t, now))
		}
	}
}

// decodeUnverified decodes token with the front end Verify uses, checking
// nothing else: jws.Parse (size up to jws.DefaultMaxBytes, the library's
// default limit, three segments, strict base64url), then a header and a
// payload that are each one strict JSON object (jsonx). Its errors are
// rejections of class too_large, unsupported or malformed, whose text
// never contains the token.
func decodeUnverified(token string) (jws.Parts, error) {
	p, err := jws.Parse(token, jws.DefaultMaxBytes)
	if err != nil {
		return jws.Parts{}, err
	}
	if err := jsonx.Object(p.Header, nil); err != nil {
		return jws.Parts{}, reject.Newf(reject.ErrMalformed, "header: %v", err)
	}
	if err := jsonx.Object(p.Payload, nil); err != nil {
		return jws.Parts{}, reject.Newf(reject.ErrMalformed, "payload: %v", err)
	}
	return p, nil
}

// readToken returns the token of the TOKEN argument, or stdin's when
// there is none (positional is empty) or it is "-" (at most
// maxStdinBytes of it), with the surrounding space and a leading
// "Bearer " (in any case) removed, as verify and inspect take it.
func readToken(positional []string, stdin io.Reader) (string, error) {
	var token string
	if len(positional) == 0 || positional[0] == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, maxStdinBytes))
		if err != nil {
			return "", fmt.Errorf("reading stdin: %w", err)
		}
		token = string(data)
	} else {
		token = positional[0]
	}
	token = strings.TrimSpace(token)
	if len(token) >= 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	return token, nil
}

// asOf returns the time a --now value gives (parseTime), or the clock's
// when it is empty.
func asOf(now string) (time.Time, error) {
	if now == "" {
		return time.Now(), nil
	}
	return parseTime(now)
}

// escapeUnprintable returns s with each rune that is not graphic
// (unicode.IsGraphic: control and format characters, line and paragraph
// separators, private-use and unassigned code points) replaced by its
// JSON escape, \uXXXX (a UTF-16 surrogate pair beyond U+FFFF), so that
// text from a token can neither drive the terminal it is printed to nor
// hide, reorder or forge what is shown. Inside a JSON string such an
// escape stands for the same rune, so a line of JSON stays valid JSON of
// the same value.
func escapeUnprintable(s string) string {
	clean := true
	for _, r := range s {
		clean = clean && unicode.IsGraphic(r)
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsGraphic(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// dateText formats a claim's date as the command prints it: RFC 3339 in
// UTC, with the fraction of a second only when the claim has one.
func dateText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// relative tells t as seen from now: "in 59m", "3d4h ago", or "now" less
// than a second away (reltime.Short).
func relative(t, now time.Time) string {
	switch {
	case !t.Before(now.Add(time.Second)):
		return "in " + reltime.Short(now, t)
	case !now.Before(t.Add(time.Second)):
		return reltime.Short(t, now) + " ago"
	}
	return "now"
}
