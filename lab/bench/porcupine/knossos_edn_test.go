// knossos_edn_test.go — dropped into a copy of Porcupine's source tree beside
// conlab_bench_test.go by lab/bench/porcupine_vs_conlab.sh: reads Knossos's cas-register
// histories (data/cas-register/{good,bad}/*.edn, Jepsen EDN: one vector of operation maps) into
// Porcupine's Events, and gives Porcupine a cas-register model with Knossos's semantics
// (knossos.model/cas-register 0: the register starts at 0; a read that returned nil matches any
// value; a cas from a value other than the current one is inconsistent). Written for conlab:
// no code of Knossos or Porcupine is copied.
//
// The history as Knossos takes it: an operation is its :invoke and the next completion of the
// same :process; :ok happened, :fail did not (dropped, invocation and all), :info (or no
// completion) may have happened at any time after its invocation (its return is put after every
// other event, with an unknown output). Entries whose :process is not an integer (the nemesis)
// are skipped.
package porcupine

import (
	"fmt"
	"os"
	"strconv"
	"unicode"
)

// ---- a small EDN reader: nil, booleans, integers, other numbers and symbols (as text),
// strings, keywords, vectors, lists, sets, maps; commas are whitespace; ';' comments; '#_'
// discards; other tags (#inst …) are read as their value.

type ednKeyword string
type ednSymbol string

type ednReader struct {
	s   []byte
	pos int
}

func (r *ednReader) skip() {
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		if c == ';' {
			for r.pos < len(r.s) && r.s[r.pos] != '\n' {
				r.pos++
			}
		} else if c == ',' || unicode.IsSpace(rune(c)) {
			r.pos++
		} else {
			return
		}
	}
}

func (r *ednReader) fail(what string) error {
	return fmt.Errorf("byte %d: %s", r.pos, what)
}

func isDelim(c byte) bool {
	return c == ',' || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' ||
		c == ';' || unicode.IsSpace(rune(c))
}

func (r *ednReader) token() string {
	start := r.pos
	for r.pos < len(r.s) && !isDelim(r.s[r.pos]) {
		r.pos++
	}
	return string(r.s[start:r.pos])
}

func (r *ednReader) seq(end byte) ([]interface{}, error) {
	var out []interface{}
	for {
		r.skip()
		if r.pos >= len(r.s) {
			return nil, r.fail("unclosed collection")
		}
		if r.s[r.pos] == end {
			r.pos++
			return out, nil
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (r *ednReader) value() (interface{}, error) {
	r.skip()
	if r.pos >= len(r.s) {
		return nil, r.fail("end of input where a value was expected")
	}
	switch c := r.s[r.pos]; {
	case c == '[':
		r.pos++
		return r.seq(']')
	case c == '(':
		r.pos++
		return r.seq(')')
	case c == '{':
		r.pos++
		items, err := r.seq('}')
		if err != nil {
			return nil, err
		}
		if len(items)%2 != 0 {
			return nil, r.fail("a map with an odd number of forms")
		}
		m := make(map[interface{}]interface{}, len(items)/2)
		for i := 0; i < len(items); i += 2 {
			k := items[i]
			switch k.(type) {
			case []interface{}, map[interface{}]interface{}:
				k = fmt.Sprint(k) // a collection as a key: its text, enough to tell keys apart
			}
			m[k] = items[i+1]
		}
		return m, nil
	case c == '#':
		r.pos++
		if r.pos < len(r.s) && r.s[r.pos] == '{' {
			r.pos++
			return r.seq('}')
		}
		if r.pos < len(r.s) && r.s[r.pos] == '_' {
			r.pos++
			if _, err := r.value(); err != nil {
				return nil, err
			}
			return r.value()
		}
		r.token() // a tag: the value that follows stands for it
		return r.value()
	case c == '"':
		r.pos++
		var b []byte
		for r.pos < len(r.s) && r.s[r.pos] != '"' {
			if r.s[r.pos] == '\\' && r.pos+1 < len(r.s) {
				r.pos++
			}
			b = append(b, r.s[r.pos])
			r.pos++
		}
		if r.pos >= len(r.s) {
			return nil, r.fail("unterminated string")
		}
		r.pos++
		return string(b), nil
	case c == ':':
		r.pos++
		return ednKeyword(r.token()), nil
	default:
		t := r.token()
		if t == "" {
			return nil, r.fail(fmt.Sprintf("unexpected %q", c))
		}
		switch t {
		case "nil":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n, nil
		}
		return ednSymbol(t), nil
	}
}

// ---- the cas-register model, as Knossos's

type casInput struct {
	f        byte // 'r', 'w', 'c'
	arg, to  int64
	nilValue bool // a read whose value is nil (matches anything), or an unknown output
}

type casOutput struct {
	value   int64
	nilRead bool // the read returned nil: it constrains nothing
	ok      bool // for a cas: it succeeded (as an ok completion says)
	unknown bool // an :info or a never-completed operation
}

var knossosCasModel = Model{
	Init: func() interface{} { return int64(0) },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st := state.(int64)
		in := input.(casInput)
		out := output.(casOutput)
		switch in.f {
		case 'r':
			return out.unknown || out.nilRead || out.value == st, st
		case 'w':
			return true, in.arg
		default: // cas
			if out.unknown {
				if st == in.arg {
					return true, in.to
				}
				return true, st
			}
			if st == in.arg {
				return true, in.to
			}
			return false, st
		}
	},
	Equal: func(a, b interface{}) bool { return a.(int64) == b.(int64) },
	Hash:  func(s interface{}) uint64 { return uint64(s.(int64)) },
}

func asInt(v interface{}) (int64, bool) {
	n, ok := v.(int64)
	return n, ok
}

// parseKnossosEdn reads one of Knossos's history files into Porcupine's events; panics (the
// test fails) on a file it cannot read.
func parseKnossosEdn(filename string) []Event {
	data, err := os.ReadFile(filename)
	if err != nil {
		panic(err)
	}
	r := &ednReader{s: data}
	var ops []interface{}
	for {
		r.skip()
		if r.pos >= len(r.s) {
			break
		}
		v, err := r.value()
		if err != nil {
			panic(fmt.Sprintf("%s: %v", filename, err))
		}
		if list, ok := v.([]interface{}); ok {
			ops = append(ops, list...) // one collection of maps (read-history-2)
		} else {
			ops = append(ops, v) // or one map after another
		}
	}
	type pending struct {
		at int // index of the call event in events
		in casInput
	}
	var events []Event
	drop := map[int]bool{} // ids of failed operations
	open := map[int64]pending{}
	id := 0
	for _, o := range ops {
		m, ok := o.(map[interface{}]interface{})
		if !ok {
			continue
		}
		proc, isInt := asInt(m[ednKeyword("process")])
		if !isInt {
			continue // the nemesis
		}
		typ, _ := m[ednKeyword("type")].(ednKeyword)
		f, _ := m[ednKeyword("f")].(ednKeyword)
		val := m[ednKeyword("value")]
		switch typ {
		case "invoke":
			in := casInput{}
			switch f {
			case "read":
				in.f = 'r'
			case "write":
				in.f = 'w'
				in.arg, _ = asInt(val)
			case "cas":
				in.f = 'c'
				pair, _ := val.([]interface{})
				if len(pair) == 2 {
					in.arg, _ = asInt(pair[0])
					in.to, _ = asInt(pair[1])
				}
			default:
				continue
			}
			open[proc] = pending{len(events), in}
			events = append(events, Event{ClientId: int(proc), Kind: CallEvent, Value: in, Id: id})
			id++
		case "ok", "fail", "info":
			p, has := open[proc]
			if !has {
				continue
			}
			delete(open, proc)
			callId := events[p.at].Id
			if typ == "fail" {
				drop[callId] = true
				continue
			}
			if typ == "info" {
				open[-1-int64(callId)] = p // completed at the end, below
				continue
			}
			out := casOutput{ok: true}
			if p.in.f == 'r' {
				if n, isN := asInt(val); isN {
					out.value = n
				} else {
					out.nilRead = true
				}
			}
			events = append(events, Event{ClientId: int(proc), Kind: ReturnEvent, Value: out, Id: callId})
		}
	}
	for proc, p := range open { // :info, or never completed: may happen any time after the call
		events = append(events, Event{ClientId: events[p.at].ClientId, Kind: ReturnEvent, Value: casOutput{unknown: true},
			Id: events[p.at].Id})
		_ = proc
	}
	if len(drop) == 0 {
		return events
	}
	kept := events[:0]
	for _, e := range events {
		if !drop[e.Id] {
			kept = append(kept, e)
		}
	}
	return kept
}
