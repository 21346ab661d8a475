package exporter

import "github.com/alecthomas/kingpin/v2"

// terminated carries the exit code kingpin asks for after --help,
// --version, --help-man or --completion-script-*.
type terminated int

// Parse parses args with app, stopping where kingpin would exit the
// process (after --help and the like) instead of going on to parse, which
// would print errors or usage after the requested output. It returns the
// exit code kingpin asked for, or -1 when it did not ask to exit.
func Parse(app *kingpin.Application, args []string) (command string, exitCode int, err error) {
	app.Terminate(func(code int) { panic(terminated(code)) })
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(terminated)
			if !ok {
				panic(r)
			}
			command, exitCode, err = "", int(t), nil
		}
	}()
	command, err = app.Parse(args)
	return command, -1, err
}
