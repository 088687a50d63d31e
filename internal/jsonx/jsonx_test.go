package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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
		{"case", `{"sub":"alice","Sub":"admin"}`, ErrCaseFold},
		{"case upper", `{"SUB":1,"sub":2}`, ErrCaseFold},
		{"case nested", `{"a":{"kid":1,"KID":2}}`, ErrCaseFold},
		{"case in array object", `{"a":[1,{"Alg":1,"alg":2}]}`, ErrCaseFold},
		{"case escaped", `{"sub":1,"\u0053ub":2}`, ErrCaseFold},
		{"case both escaped", `{"\u0073ub":1,"\u0053UB":2}`, ErrCaseFold},
		{"long s", "{\"sub\":1,\"\u017fub\":2}", ErrCaseFold},
		{"long s escaped", `{"\u017fub":1,"SUB":2}`, ErrCaseFold},
		{"kelvin", "{\"kid\":1,\"\u212aid\":2}", ErrCaseFold},
		{"kelvin escaped", `{"Kid":1,"\u212Aid":2}`, ErrCaseFold},
		{"sigma", `{"σ":1,"ς":2}`, ErrCaseFold},
		{"sharp s", `{"ß":1,"ẞ":2}`, ErrCaseFold},
		{"case after many", `{` + manyMembers(40) + `,"M7":0}`, ErrCaseFold},
		{"long s after many", `{` + manyMembers(40) + `,"\u017f":0,"s":1}`, ErrCaseFold},
		{"case among many", `{"Sub":0,` + manyMembers(40) + `,"sub":1}`, ErrCaseFold},
		{"duplicate among many", `{"sub":0,` + manyMembers(40) + `,"sub":1}`, ErrDuplicate},
		{"same name different case levels", `{"a":{"A":{"a":1}}}`, nil},
		{"dotted capital I is not i", `{"id":1,"İd":2}`, nil},
		{"dotless i is not I", `{"ID":1,"ıD":2}`, nil},
		{"symbols one bit apart", "{\"@\":1,\"`\":2,\"[\":3,\"{\":4,\"\\\\\":5,\"|\":6}", nil},
		{"underscore kept", `{"user_id":1,"userid":2,"user-id":3}`, nil},
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
	for _, in := range []string{
		`{"iss":"https://issuer.example","sub":"user","aud":["a","b"],"exp":1300819380,"n":{"k":[1,2,{"z":null}]}}`,
		"{\"r\u00f4le\":1,\"\u017fub\":2,\"\u212aid\":3,\"\u65e5\u672c\":{\"\u03c3\":4}}", // non-ASCII names, not escaped
	} {
		data := []byte(in)
		allocs := testing.AllocsPerRun(100, func() {
			if err := Object(data, func(name, value []byte) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Fatalf("Object(%q) allocates %v times per run, want 0", in, allocs)
		}
	}
}

// jsonField reports whether encoding/json, decoding into a struct whose
// one field is tagged with name a, stores a member named b in that field.
// valid is false when a cannot be a tag name (encoding/json then uses the
// Go field name), so that no field of any struct can be called a.
func jsonField(t *testing.T, a, b string) (match, valid bool) {
	t.Helper()
	typ := reflect.StructOf([]reflect.StructField{{
		Name: "F",
		Type: reflect.TypeFor[int](),
		Tag:  reflect.StructTag(`json:"` + a + `"`),
	}})
	out, err := json.Marshal(reflect.New(typ).Interface())
	if err != nil {
		t.Fatal(err)
	}
	var names map[string]int
	if err := json.Unmarshal(out, &names); err != nil {
		t.Fatal(err)
	}
	if _, ok := names[a]; !ok {
		return false, false
	}
	qb, _ := json.Marshal(b)
	v := reflect.New(typ)
	if err := json.Unmarshal([]byte(`{`+string(qb)+`:1}`), v.Interface()); err != nil {
		t.Fatal(err)
	}
	return v.Elem().Field(0).Int() == 1, true
}

// TestCaseFoldMatchesEncodingJSON is the differential test of the folding
// rule: for each pair of names a, b, encoding/json stores both in a struct
// field tagged a exactly when Object refuses {a, b}, in objects small
// enough for pairwise comparison and in ones large enough for the map.
// The pairs: every two printable ASCII characters; every rune with a case
// mapping or simple fold against the other members of its fold orbit, its
// upper, lower and title case (İ and i are not one name, K and K are) and
// its neighbours. A name no tag can carry (a symbol such as Ⓐ) is held to
// bytes.EqualFold, the comparison encoding/json documents for its folding.
func TestCaseFoldMatchesEncodingJSON(t *testing.T) {
	type pair struct{ a, b rune }
	var pairs []pair
	for a := rune(0x20); a < 0x7f; a++ {
		for b := rune(0x20); b < 0x7f; b++ {
			pairs = append(pairs, pair{a, b})
		}
	}
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) == r && unicode.ToUpper(r) == r && unicode.ToLower(r) == r && unicode.ToTitle(r) == r {
			continue
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			pairs = append(pairs, pair{r, f})
		}
		pairs = append(pairs, pair{r, unicode.ToUpper(r)}, pair{r, unicode.ToLower(r)}, pair{r, unicode.ToTitle(r)}, pair{r, r + 1}, pair{r, r - 1})
	}
	filler := manyMembers(inlineNames) + ","
	var compared, folded, symbols int
	for _, p := range pairs {
		if p.a == p.b || !utf8.ValidRune(p.b) {
			continue
		}
		a, b := string(p.a)+"ub", string(p.b)+"ub" // "sub", "Sub", "ſub"
		qa, _ := json.Marshal(a)
		qb, _ := json.Marshal(b)
		want := error(nil)
		if bytes.EqualFold([]byte(a), []byte(b)) {
			want = ErrCaseFold
			folded++
		}
		if match, valid := jsonField(t, a, b); valid {
			if got := want != nil; got != match {
				t.Errorf("encoding/json stores %q in a field tagged %q: %v; bytes.EqualFold says %v", b, a, match, got)
			}
			compared++
		} else {
			symbols++
		}
		qa2, _ := json.Marshal("su" + string(p.a)) // the rune last, where the prefilter looks too
		qb2, _ := json.Marshal("su" + string(p.b))
		for _, in := range []string{
			`{` + string(qa) + `:1,` + string(qb) + `:2}`,
			`{"x":{` + string(qb) + `:1,` + string(qa) + `:2}}`,
			`{` + string(qa2) + `:1,` + string(qb2) + `:2}`,
			`{` + filler + string(qa) + `:1,` + string(qb) + `:2}`,
			`{` + filler + string(qb2) + `:1,` + string(qa2) + `:2}`,
		} {
			if err := Object([]byte(in), nil); err != want {
				t.Errorf("Object(%q) = %v, want %v", in, err, want)
			}
		}
	}
	// The special folds encoding/json applies beyond ASCII, each seen.
	for _, p := range [][2]string{{"sub", "\u017fub"}, {"kid", "\u212aid"}, {"SUB", "\u017fUB"}, {"Kid", "\u212aid"}} {
		if match, valid := jsonField(t, p[0], p[1]); !match || !valid {
			t.Errorf("encoding/json does not store %q in a field tagged %q", p[1], p[0])
		}
	}
	t.Logf("%d pairs compared with encoding/json (%d equal under folding), %d held to bytes.EqualFold", compared, folded, symbols)
	if compared < 10000 || folded < 2000 {
		t.Fatalf("only %d pairs compared, %d folded", compared, folded)
	}
}

// TestMapDecodingIsExact records why the rule is about struct fields:
// decoding into a map keeps both names apart, decoding into a struct puts
// the later one in the field.
func TestMapDecodingIsExact(t *testing.T) {
	in := []byte("{\"sub\":\"alice\",\"\u017fub\":\"admin\"}")
	var m map[string]string
	if err := json.Unmarshal(in, &m); err != nil || len(m) != 2 || m["sub"] != "alice" {
		t.Fatalf("map decoding = %v, %v", m, err)
	}
	var s struct{ Sub string }
	if err := json.Unmarshal(in, &s); err != nil || s.Sub != "admin" {
		t.Fatalf("struct decoding = %+v, %v", s, err)
	}
	if err := Object(in, nil); err != ErrCaseFold {
		t.Fatalf("Object = %v, want ErrCaseFold", err)
	}
}

// sameNames walks data with encoding/json's tokenizer and reports whether
// some object, at any depth, has two members with the same name (exact)
// or two whose names differ but are equal under bytes.EqualFold (folded).
func sameNames(data []byte) (exact, folded bool) {
	type frame struct {
		names []string
		obj   bool
		name  bool // the next string token is a member name
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return exact, folded
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].name = true
			}
			continue
		}
		if s, ok := tok.(string); ok && top != nil && top.obj && top.name {
			for _, prev := range top.names {
				exact = exact || prev == s
				folded = folded || (prev != s && strings.EqualFold(prev, s))
			}
			top.names = append(top.names, s)
			top.name = false
			continue
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{obj: d == '{', name: d == '{'})
			continue
		}
		if top != nil && top.obj {
			top.name = true
		}
	}
}

// FuzzObject checks the scanner against encoding/json: whatever we accept
// encoding/json accepts, and no object in it has two names that
// encoding/json's tokenizer reads as equal or equal under case folding;
// what we reject but encoding/json accepts must break one of our stricter
// rules, and a rejection for a duplicate or a case fold has such a pair.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `null`, ` null `, `{"a":"\ud800"}`, `{"a":[1,{"b":null}]}`, "{\"a\":\"\xff\"}", `{"a":1e999}`, `{"\u0061":1,"a":2}`,
		`{"sub":1,"Sub":2}`, `{"a":{"\u0053ub":1,"sub":2}}`, "{\"\u017f\":1,\"S\":2}", "{\"\u212a\":1,\"k\":2}", `{"σ":[{"ς":1,"Σ":2}]}`, `{"İ":1,"i":2}`, `{` + manyMembers(20) + `,"M3":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Object(data, nil)
		var m map[string]any
		stdErr := json.Unmarshal(data, &m)
		if stdErr == nil && m == nil {
			// JSON null: encoding/json leaves the map nil and reports
			// no error, but it is not an object; both refuse it.
			stdErr = errors.New("null is not an object")
		}
		exact, folded := sameNames(data)
		if err == nil {
			if stdErr != nil && !strings.Contains(stdErr.Error(), "cannot unmarshal number") {
				t.Fatalf("we accept, encoding/json rejects: %v", stdErr)
			}
			if exact || folded {
				t.Fatalf("we accept, encoding/json reads names equal (%v) or equal under folding (%v)", exact, folded)
			}
			return
		}
		switch {
		case err == ErrDuplicate && !exact:
			t.Fatal("duplicate, but encoding/json reads no two names equal")
		case err == ErrCaseFold && !folded:
			t.Fatal("case fold, but encoding/json reads no two names equal under folding")
		}
		if stdErr == nil {
			switch err {
			case ErrDuplicate, ErrCaseFold, ErrUTF8, ErrDepth:
			default:
				t.Fatalf("encoding/json accepts, we reject with %v", err)
			}
		}
	})
}
