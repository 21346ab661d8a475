package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/warden-exporter/warden/alertclient"
)

// rootSpoolDir is root's default spool: the packaged exporter's state
// directory, used only when root owns it (the package makes it the warden
// user's, and a spool is refused to any other user).
const rootSpoolDir = "/var/lib/warden/alert-spool"

// defaultSpoolDir is where alerts wait when neither --spool.dir nor the
// --alert.config.file names a spool, so that no alert is lost by default:
// $XDG_STATE_HOME/warden/alert-spool when XDG_STATE_HOME is set (for root
// too: it was asked for), else /var/lib/warden/alert-spool for root, else
// ~/.local/state/warden/alert-spool, as the XDG base directories say.
func defaultSpoolDir(getenv func(string) string, euid int) (string, error) {
	if state := getenv("XDG_STATE_HOME"); filepath.IsAbs(state) {
		return filepath.Join(state, "warden", "alert-spool"), nil
	}
	if euid == 0 {
		return rootSpoolDir, nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("no default spool directory: neither XDG_STATE_HOME nor HOME is set to an absolute path; give --spool.dir")
	}
	return filepath.Join(home, ".local", "state", "warden", "alert-spool"), nil
}

// spoolChoice is the spool a command uses, and where it came from.
type spoolChoice struct {
	dir string
	// isDefault: neither --spool.dir nor the config named it.
	isDefault bool
	// unusable says why the default spool is not used: this command then
	// spools nothing.
	unusable error
}

// newClient builds the client of opts, with the default spool (created
// when an alert first has to wait in it) when opts.Config names none. A
// default spool that exists and this user may not use (root's, when the
// package made it the warden user's) is left out, and the reason returned
// to be told if an alert could not be delivered.
func newClient(opts alertclient.Options) (*alertclient.Client, spoolChoice, error) {
	if opts.Config.Spool.Directory != "" {
		c, err := alertclient.New(opts)
		return c, spoolChoice{dir: opts.Config.Spool.Directory}, err
	}
	choice := spoolChoice{isDefault: true}
	choice.dir, choice.unusable = defaultSpoolDir(os.Getenv, os.Geteuid())
	if choice.unusable != nil {
		c, err := alertclient.New(opts)
		return c, choice, err
	}
	withSpool := *opts.Config
	withSpool.Spool.Directory = choice.dir
	deferred := opts
	deferred.Config, deferred.DeferSpoolCreation = &withSpool, true
	c, spoolErr := alertclient.New(deferred)
	if spoolErr == nil {
		return c, choice, nil
	}
	// The same without the spool: if that works, the spool was at fault.
	c, err := alertclient.New(opts)
	if err != nil {
		return nil, choice, err
	}
	choice.unusable = fmt.Errorf("the default spool cannot be used: %w", spoolErr)
	return c, choice, nil
}

// existingSpool is the spool flush and list --local read: the one named,
// or the default one if it exists. "" when there is none: nothing was
// ever spooled by default.
func existingSpool(named string) (string, error) {
	if named != "" {
		return named, nil
	}
	dir, err := defaultSpoolDir(os.Getenv, os.Geteuid())
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return dir, nil
}
