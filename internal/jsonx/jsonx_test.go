package jsonx

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty object", `{}`, nil},
		{"whitespace around", " \t\r\n{\"a\":1} \n", nil},
		{"all kinds", `{"s":"x\"\\\/\b\f\n\r\tA\u00e9\ud83d\ude00","n":-1.5e+10,"z":0,"t":true,"f":false,"u":null,"a":[1,[2],{}],"o":{"p":{"q":[]}}}`, nil},
		{"utf8 raw", "{\"é\":\"日本\"}", nil},
		{"duplicate", `{"a":1,"a":2}`, ErrDuplicate},
		{"duplicate escaped", `{"alg":1,"\u0061lg":2}`, ErrDuplicate},
		{"duplicate nested", `{"a":{"b":1,"b":1}}`, ErrDuplicate},
		{"duplicate in array object", `{"a":[{"b":1,"b":1}]}`, ErrDuplicate},
		{"same name different levels", `{"a":{"a":{"a":1}}}`, nil},
		{"duplicate after many", `{` + manyMembers(40) + `,"m7":0}`, ErrDuplicate},
		{"many distinct", `{` + manyMembers(40) + `}`, nil},
		{"array top", `[1]`, ErrNotObject},
		{"string top", `"a"`, ErrNotObject},
		{"empty", ``, ErrNotObject},
		{"spaces only", `   `, ErrNotObject},
		{"garbage", `x`, ErrSyntax},
		{"two objects", `{}{}`, ErrTrailing},
		{"trailing garbage", `{"a":1}x`, ErrTrailing},
		{"trailing NUL", "{\"a\":1}\x00", ErrTrailing},
		{"trailing comma", `{"a":1,}`, ErrSyntax},
		{"missing colon", `{"a" 1}`, ErrSyntax},
		{"unquoted name", `{a:1}`, ErrSyntax},
		{"single quotes", `{'a':1}`, ErrSyntax},
		{"unterminated", `{"a":1`, ErrSyntax},
		{"unterminated string", `{"a":"x}`, ErrSyntax},
		{"control char", "{\"a\":\"x\ty\"}", ErrSyntax},
		{"bad escape", `{"a":"\x"}`, ErrSyntax},
		{"short unicode escape", `{"a":"\u12"}`, ErrSyntax},
		{"invalid utf8", "{\"a\":\"\xff\"}", ErrUTF8},
		{"overlong utf8", "{\"a\":\"\xc0\xaf\"}", ErrUTF8},
		{"utf8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", ErrUTF8},
		{"lone high surrogate", `{"a":"\ud800"}`, ErrUTF8},
		{"lone low surrogate", `{"a":"\udc00"}`, ErrUTF8},
		{"high then non-low", `{"a":"\ud800\u0041"}`, ErrUTF8},
		{"leading zero", `{"a":01}`, ErrSyntax},
		{"plus sign", `{"a":+1}`, ErrSyntax},
		{"bare dot", `{"a":1.}`, ErrSyntax},
		{"bare exponent", `{"a":1e}`, ErrSyntax},
		{"NaN", `{"a":NaN}`, ErrSyntax},
		{"Infinity", `{"a":Infinity}`, ErrSyntax},
		{"hex", `{"a":0x10}`, ErrSyntax},
		{"truncated literal", `{"a":tru}`, ErrSyntax},
		{"capital literal", `{"a":True}`, ErrSyntax},
		{"comment", `{"a":1/*x*/}`, ErrSyntax},
		{"deep ok", `{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, nil},
		{"too deep", `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, ErrDepth},
		{"very deep", `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, ErrDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Object([]byte(tt.in), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Object(%q) = %v, want %v", tt.in, err, tt.want)
			}
			// Whatever we accept, encoding/json accepts too.
			if err == nil && !json.Valid([]byte(tt.in)) {
				t.Fatalf("accepted %q that encoding/json rejects", tt.in)
			}
		})
	}
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"m`)
		b.WriteString(string(rune('0' + i/10)))
		b.WriteString(string(rune('0' + i%10)))
		b.WriteString(`":0`)
	}
	return strings.ReplaceAll(b.String(), `"m0`, `"m`)
}

func TestObjectMembers(t *testing.T) {
	in := `{ "iss" : "joe", "a\u0075d":["x","y"], "exp":1300819380.5 , "n":{"x":1}}`
	var names, values []string
	err := Object([]byte(in), func(name, value []byte) error {
		names = append(names, string(name))
		values = append(values, string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantN := []string{"iss", "aud", "exp", "n"}
	wantV := []string{`"joe"`, `["x","y"]`, `1300819380.5`, `{"x":1}`}
	if strings.Join(names, "|") != strings.Join(wantN, "|") || strings.Join(values, "|") != strings.Join(wantV, "|") {
		t.Fatalf("members = %q %q, want %q %q", names, values, wantN, wantV)
	}
	stop := errors.New("stop")
	if err := Object([]byte(in), func(name, value []byte) error { return stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func TestString(t *testing.T) {
	tests := map[string]string{
		`""`:                   "",
		`"abc"`:                "abc",
		`"a\"b\\c\/d"`:         `a"b\c/d`,
		`"\b\f\n\r\t"`:         "\b\f\n\r\t",
		`"\u006eone"`:          "none",
		`"\u00e9\ud83d\ude00"`: "é😀",
	}
	for in, want := range tests {
		if err := Object([]byte(`{"v":`+in+`}`), nil); err != nil {
			t.Fatalf("%s is not a valid member value: %v", in, err)
		}
		got, ok := String([]byte(in))
		if !ok || got != want {
			t.Errorf("String(%s) = %q, %v; want %q", in, got, ok, want)
		}
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil || std != got {
			t.Errorf("encoding/json decodes %s as %q (%v), we decode %q", in, std, err, got)
		}
	}
	if _, ok := String([]byte(`12`)); ok {
		t.Error("String accepted a number")
	}
}

func TestArray(t *testing.T) {
	var got []string
	ok, err := Array([]byte(`["a", "b" ,3]`), func(e []byte) error { got = append(got, string(e)); return nil })
	if !ok || err != nil || strings.Join(got, ",") != `"a","b",3` {
		t.Fatalf("Array = %v %v %q", ok, err, got)
	}
	if ok, _ := Array([]byte(`"a"`), nil); ok {
		t.Fatal("Array accepted a string")
	}
}

func TestNoAllocs(t *testing.T) {
	in := []byte(`{"iss":"https://issuer.example","sub":"user","aud":["a","b"],"exp":1300819380,"n":{"k":[1,2,{"z":null}]}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if err := Object(in, func(name, value []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Object allocates %v times per run, want 0", allocs)
	}
}

// FuzzObject checks the scanner against encoding/json: whatever we accept
// encoding/json accepts and decodes to the same members; what we reject but
// encoding/json accepts must break one of our stricter rules.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":"\ud800"}`, `{"a":[1,{"b":null}]}`, "{\"a\":\"\xff\"}", `{"a":1e999}`, `{"\u0061":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Object(data, nil)
		var m map[string]any
		stdErr := json.Unmarshal(data, &m)
		if err == nil {
			if stdErr != nil && !strings.Contains(stdErr.Error(), "cannot unmarshal number") {
				t.Fatalf("we accept, encoding/json rejects: %v", stdErr)
			}
			return
		}
		if stdErr == nil {
			switch err {
			case ErrDuplicate, ErrUTF8, ErrDepth:
			default:
				t.Fatalf("encoding/json accepts, we reject with %v", err)
			}
		}
	})
}
