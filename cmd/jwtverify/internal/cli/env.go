package cli

import (
	"flag"
	"fmt"
	"strings"
)

// envVar returns the environment variable that flag name reads:
// JWTVERIFY_ and the name upper-cased, dashes as underscores
// (--metrics-listen: JWTVERIFY_METRICS_LISTEN).
func envVar(name string) string {
	return "JWTVERIFY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv gives every flag of fs that the command line did not set the
// value of its environment variable (envVar), when that is not empty: a
// flag on the command line wins over the environment, which wins over a
// configuration file and the default. A repeatable flag takes a
// comma-separated list. An invalid value is an error naming the variable,
// never showing the value (it may be a secret's path, or a URL with one).
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envVar(f.Name))
		if err != nil || set[f.Name] || v == "" {
			return
		}
		values := []string{v}
		if _, repeatable := f.Value.(*list); repeatable {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if e := fs.Set(f.Name, strings.TrimSpace(one)); e != nil {
				err = fmt.Errorf("%s: invalid value for --%s", envVar(f.Name), f.Name)
				return
			}
		}
	})
	return err
}
