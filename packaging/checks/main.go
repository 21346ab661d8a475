// Command checks verifies packaging artefacts that no tool on a Debian
// machine without a container engine can: that packaging/Dockerfile parses
// as BuildKit parses it and builds a small, non-root image from files the
// build context really sends, and that binaries are statically linked.
//
//	go run . dockerfile DOCKERFILE CONTEXT_DIR
//	go run . static-elf FILE...
//
// It is its own module so that BuildKit's parser, and the Kubernetes API
// types of its helmcheck tests, stay out of Warden's go.mod.
package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var problems []string
	switch {
	case len(args) == 3 && args[0] == "dockerfile":
		var err error
		problems, err = checkDockerfile(args[1], args[2])
		if err != nil {
			fmt.Fprintf(stderr, "checks: %v\n", err)
			return 1
		}
	case len(args) >= 2 && args[0] == "static-elf":
		for _, f := range args[1:] {
			if err := checkStatic(f); err != nil {
				problems = append(problems, err.Error())
			}
		}
	default:
		fmt.Fprintln(stderr, "usage: checks dockerfile DOCKERFILE CONTEXT_DIR | checks static-elf FILE...")
		return 2
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		return 1
	}
	fmt.Fprintln(stdout, "ok:", strings.Join(args, " "))
	return 0
}

// checkStatic reports an error unless path is an ELF executable that needs no
// dynamic loader and no shared library, as a scratch or distroless/static
// image requires.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read only: a failed close loses nothing
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s: ELF type %v, not an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: dynamically linked (has a PT_INTERP program header)", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("%s: needs shared libraries %v", path, libs)
	}
	return nil
}

// checkDockerfile parses path with BuildKit's parser and returns what is
// wrong with the final stage: base image, user, exposed port, entrypoint,
// and COPY sources that are missing from contextDir, excluded by its
// .dockerignore, or not static executables.
func checkDockerfile(path, contextDir string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ignore, err := dockerignore(contextDir)
	if err != nil {
		return nil, err
	}

	var problems []string
	bad := func(line int, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, a...)))
	}
	for _, w := range res.Warnings {
		bad(w.Location.Start.Line, "parser warning: %s", w.Short)
	}

	// Only the final stage ends up in the image.
	var final []*parser.Node
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			final = nil
		}
		final = append(final, n)
	}
	if len(final) == 0 {
		return append(problems, path+": no FROM instruction"), nil
	}

	base := args(final[0])
	if len(base) == 0 || base[0] != "scratch" && !strings.HasPrefix(base[0], "gcr.io/distroless/static") {
		bad(final[0].StartLine, "final stage FROM %v: want scratch or gcr.io/distroless/static*", base)
	}
	var user string
	var exposed, entrypoint []string
	var copied []string
	for _, n := range final[1:] {
		a := args(n)
		switch strings.ToLower(n.Value) {
		case "user":
			user = strings.Join(a, " ")
		case "expose":
			exposed = append(exposed, a...)
		case "entrypoint":
			if !n.Attributes["json"] {
				bad(n.StartLine, "ENTRYPOINT in shell form: the image has no shell")
			}
			entrypoint = a
		case "add":
			bad(n.StartLine, "ADD: use COPY")
		case "copy":
			if slices.ContainsFunc(n.Flags, func(fl string) bool { return strings.HasPrefix(fl, "--from") }) {
				continue
			}
			if len(a) < 2 {
				bad(n.StartLine, "COPY without a destination")
				continue
			}
			for _, src := range a[:len(a)-1] {
				if msg := checkSource(contextDir, src, ignore); msg != "" {
					bad(n.StartLine, "COPY %s: %s", src, msg)
					continue
				}
				copied = append(copied, filepath.Base(src))
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		bad(final[len(final)-1].EndLine, "final stage runs as root (USER %q)", user)
	}
	if !slices.ContainsFunc(exposed, func(p string) bool { return p == "9100" || p == "9100/tcp" }) {
		bad(final[len(final)-1].EndLine, "EXPOSE %v: want 9100", exposed)
	}
	if len(entrypoint) == 0 || !slices.Contains(copied, filepath.Base(entrypoint[0])) {
		bad(final[len(final)-1].EndLine, "ENTRYPOINT %v is not a binary the stage copies", entrypoint)
	}
	return problems, nil
}

// args returns an instruction's arguments.
func args(n *parser.Node) []string {
	var a []string
	for next := n.Next; next != nil; next = next.Next {
		a = append(a, next.Value)
	}
	return a
}

// dockerignore returns the matcher of contextDir's .dockerignore (nil: none).
func dockerignore(contextDir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return patternmatcher.New(patterns)
}

// checkSource says what is wrong with a COPY source, or "".
func checkSource(contextDir, src string, ignore *patternmatcher.PatternMatcher) string {
	if strings.ContainsAny(src, "*?[") {
		return "wildcards: name the files"
	}
	rel := filepath.Clean(src)
	if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
		return "outside the build context"
	}
	if ignore != nil {
		excluded, err := ignore.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err.Error()
		}
		if excluded {
			return "excluded by .dockerignore"
		}
	}
	full := filepath.Join(contextDir, rel)
	if _, err := os.Stat(full); err != nil {
		return fmt.Sprintf("not in the build context (%v); run make build first", err)
	}
	if err := checkStatic(full); err != nil {
		return err.Error()
	}
	return ""
}
