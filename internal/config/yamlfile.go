package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// File is a YAML file being validated: it decodes strictly (unknown keys
// are errors) and collects every problem with its line.
type File struct {
	Path  string
	lines lineIndex
	Errs  Errors
}

// DecodeFile decodes data into v. Syntax errors end decoding; type errors
// and unknown keys are collected and decoding goes on, so that validation
// can report the rest at once.
func DecodeFile(path string, data []byte, v any) *File {
	f := &File{Path: path, lines: lineIndex{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		f.Errs = yamlErrors(path, err)
		return f
	}
	f.lines = indexLines(&root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		f.Errs = yamlErrors(path, err)
	}
	return f
}

// Errf records a problem at the line of a dotted path ("caselle.2.tipo").
func (f *File) Errf(path, format string, args ...any) {
	f.Errs = append(f.Errs, Error{File: f.Path, Line: f.lines.line(path), Msg: fmt.Sprintf(format, args...)})
}

// Line returns the line of a dotted path, or of its nearest ancestor.
func (f *File) Line(path string) int { return f.lines.line(path) }
