package config

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// lineIndex maps a dotted path ("mailboxes.0.imap.port") to the line where
// that key or item stands in the YAML source.
type lineIndex map[string]int

func indexLines(n *yaml.Node) lineIndex {
	idx := lineIndex{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := join(path, n.Content[i].Value)
				idx[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := join(path, strconv.Itoa(i))
				idx[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(n, "")
	return idx
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// line returns the line of path, or of its nearest ancestor present.
func (idx lineIndex) line(path string) int {
	for path != "" {
		if l, ok := idx[path]; ok {
			return l
		}
		i := len(path) - 1
		for i >= 0 && path[i] != '.' {
			i--
		}
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
