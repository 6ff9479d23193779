// hcl-dump: parses HCL files with HashiCorp's HCL v2 library (Debian's
// golang-github-hashicorp-hcl-v2-dev, the parser Terraform and Packer use)
// and prints their blocks as JSON for hcl-check.py: per block its type,
// labels, attribute names (with literal string values where the expression
// is a plain string) and nested blocks. Exit 1 with the parser's
// diagnostics (FILE:LINE) on a syntax error.
//
// Usage: hcl-dump FILE...
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

type block struct {
	Type    string            `json:"type"`
	Labels  []string          `json:"labels"`
	Attrs   map[string]string `json:"attrs"`
	Strings map[string]string `json:"strings"`
	Blocks  []block           `json:"blocks"`
	Line    int               `json:"line"`
}

func source(src []byte, r hcl.Range) string {
	return string(r.SliceBytes(src))
}

func convert(b *hclsyntax.Block, src []byte) block {
	out := block{Type: b.Type, Labels: b.Labels, Attrs: map[string]string{},
		Strings: map[string]string{}, Blocks: []block{}, Line: b.DefRange().Start.Line}
	if out.Labels == nil {
		out.Labels = []string{}
	}
	for name, a := range b.Body.Attributes {
		out.Attrs[name] = source(src, a.Expr.Range())
		if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type().FriendlyName() == "string" && v.IsKnown() && !v.IsNull() {
			out.Strings[name] = v.AsString()
		}
	}
	for _, nb := range b.Body.Blocks {
		out.Blocks = append(out.Blocks, convert(nb, src))
	}
	return out
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hcl-dump FILE...")
		os.Exit(2)
	}
	parser := hclparse.NewParser()
	result := map[string][]block{}
	failed := false
	for _, path := range os.Args[1:] {
		f, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			for _, d := range diags {
				fmt.Fprintln(os.Stderr, d.Error())
			}
			failed = true
			continue
		}
		body := f.Body.(*hclsyntax.Body)
		blocks := []block{}
		for _, b := range body.Blocks {
			blocks = append(blocks, convert(b, f.Bytes))
		}
		for name, a := range body.Attributes {
			blocks = append(blocks, block{Type: "=attribute", Labels: []string{name},
				Attrs: map[string]string{"value": source(f.Bytes, a.Expr.Range())},
				Strings: map[string]string{}, Blocks: []block{}, Line: a.SrcRange.Start.Line})
		}
		result[path] = blocks
	}
	if failed {
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(result); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
