package web

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// decodeForm fills the flat fields of the struct dst from a posted form,
// each under its JSON name: strings trimmed (upper-cased when the name is
// in upper), []string from repeated values or one "a | b" list, ints and
// booleans ("1", "on", "true"). Fields of other kinds, and nested structs,
// are left alone. The domain's service owns every field a user must not
// set (ids, authors, times) and ignores them on input.
func decodeForm(r *http.Request, dst any, upper ...string) {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		raw := strings.TrimSpace(r.FormValue(name))
		fv := v.Field(i)
		switch {
		case f.Type.Kind() == reflect.String:
			if slices.Contains(upper, name) {
				raw = strings.ToUpper(raw)
			}
			fv.SetString(raw)
		case f.Type.Kind() == reflect.Int:
			n, _ := strconv.Atoi(raw)
			fv.SetInt(int64(n))
		case f.Type.Kind() == reflect.Bool:
			fv.SetBool(raw == "1" || raw == "on" || raw == "true")
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			var vals []string
			if all := r.Form[name]; len(all) > 1 {
				for _, x := range all {
					if x = strings.TrimSpace(x); x != "" {
						vals = append(vals, x)
					}
				}
			} else {
				vals = splitList(raw)
			}
			fv.Set(reflect.ValueOf(vals))
		}
	}
}
