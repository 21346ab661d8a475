package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/alecthomas/kingpin/v2"
)

// fleetCmds are the commands for a fleet under one CA: ca, fleet, cert
// and probe. run's switch dispatches them all with one case.
type fleetCmds struct {
	ca *caCmd
}

func addFleetCommands(app *kingpin.Application) *fleetCmds {
	return &fleetCmds{ca: addCACommands(app)}
}

// selected returns cmd when it is one of these commands, and "" otherwise,
// so that run's switch on cmd can name them all in one case.
func (f *fleetCmds) selected(cmd string) string {
	if slices.Contains(f.ca.commands(), cmd) {
		return cmd
	}
	return ""
}

func (f *fleetCmds) run(cmd string, stdout, stderr io.Writer) int {
	switch {
	case slices.Contains(f.ca.commands(), cmd):
		return f.ca.run(cmd, stdout, stderr)
	}
	fmt.Fprintf(stderr, "%s: error: unknown command %q\n", name, cmd)
	return 2
}
