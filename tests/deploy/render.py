#!/usr/bin/python3
"""Renders a Terraform template the way templatefile() does, for the subset
deploy/terraform's templates keep to: ${NAME} interpolations, %{ if COND } /
%{ else } / %{ endif }, %{ for NAME in LIST } / %{ endfor }, the strip
markers ~ on either side of a sequence (after one: blanks and one newline;
before one: all whitespace), and the escapes $${ and %%{.
COND: NAME, "string", numbers, true/false, ==, !=, !, &&, || (and
parentheses). A variable the template uses but VARS lacks is an error, as in
templatefile; so is anything outside the subset.

Usage: render.py TEMPLATE VARS-JSON > OUTPUT
"""
import json
import re
import sys

TOKEN = re.compile(r'\$\$\{|%%\{|\$\{(~?)(.*?)(~?)\}|%\{(~?)(.*?)(~?)\}', re.S)
EXPR_TOKEN = re.compile(r'\s*(?:(\|\||&&|==|!=|!|\(|\))|("(?:[^"\\]|\\.)*")|(-?\d+)|([A-Za-z_][A-Za-z0-9_]*))')


class TemplateError(Exception):
    pass


def strip_one_line(chunk):
    """What a ~} strips after it (as HCL does): blanks up to and including
    the first newline, not the lines after it."""
    return re.sub(r'^[ \t]*(\r?\n)?', '', chunk, count=1)


def parse(text):
    """Text into a list of ('text', s) / ('interp', expr) / ('dir', words),
    with the strip markers applied to the neighbouring text."""
    items = []
    pos = 0
    strip_next = False
    for m in TOKEN.finditer(text):
        chunk = text[pos:m.start()]
        if strip_next:
            chunk = strip_one_line(chunk)
            strip_next = False
        tok = m.group(0)
        if tok in ('$${', '%%{'):
            items.append(('text', chunk + tok[1:]))
            pos = m.end()
            continue
        if m.group(2) is not None:
            lstrip, body, rstrip, kind = m.group(1), m.group(2), m.group(3), 'interp'
        else:
            lstrip, body, rstrip, kind = m.group(4), m.group(5), m.group(6), 'dir'
        if lstrip:
            chunk = chunk.rstrip()
        items.append(('text', chunk))
        items.append((kind, body.strip()))
        strip_next = bool(rstrip)
        pos = m.end()
    chunk = text[pos:]
    if strip_next:
        chunk = strip_one_line(chunk)
    items.append(('text', chunk))
    return items


def evaluate(expr, scope):
    tokens = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = EXPR_TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise TemplateError(f'expression outside the subset: {expr!r}')
        pos = m.end()
        op, string, number, name = m.groups()
        if op:
            tokens.append(('op', op))
        elif string is not None:
            tokens.append(('val', json.loads(string)))
        elif number is not None:
            tokens.append(('val', int(number)))
        elif name in ('true', 'false'):
            tokens.append(('val', name == 'true'))
        elif name in ('in',):
            raise TemplateError(f'unexpected "in" in {expr!r}')
        else:
            if name not in scope:
                raise TemplateError(f'vars map does not contain key "{name}"')
            tokens.append(('val', scope[name]))
        if pos < len(expr) and expr[pos:].strip() == '':
            break

    # Precedence climbing: || < && < ==,!= < unary !.
    def parse_or(i):
        v, i = parse_and(i)
        while i < len(tokens) and tokens[i] == ('op', '||'):
            w, i = parse_and(i + 1)
            v = want_bool(v) or want_bool(w)
        return v, i

    def parse_and(i):
        v, i = parse_eq(i)
        while i < len(tokens) and tokens[i] == ('op', '&&'):
            w, i = parse_eq(i + 1)
            v = want_bool(v) and want_bool(w)
        return v, i

    def parse_eq(i):
        v, i = parse_unary(i)
        while i < len(tokens) and tokens[i] in (('op', '=='), ('op', '!=')):
            op = tokens[i][1]
            w, i = parse_unary(i + 1)
            v = (v == w) if op == '==' else (v != w)
        return v, i

    def parse_unary(i):
        if i >= len(tokens):
            raise TemplateError(f'incomplete expression {expr!r}')
        if tokens[i] == ('op', '!'):
            v, i = parse_unary(i + 1)
            return not want_bool(v), i
        if tokens[i] == ('op', '('):
            v, i = parse_or(i + 1)
            if i >= len(tokens) or tokens[i] != ('op', ')'):
                raise TemplateError(f'unbalanced parentheses in {expr!r}')
            return v, i + 1
        if tokens[i][0] != 'val':
            raise TemplateError(f'unexpected {tokens[i][1]!r} in {expr!r}')
        return tokens[i][1], i + 1

    def want_bool(v):
        if not isinstance(v, bool):
            raise TemplateError(f'a condition in {expr!r} is {v!r}, not a bool')
        return v

    value, i = parse_or(0)
    if i != len(tokens):
        raise TemplateError(f'trailing tokens in {expr!r}')
    return value


def to_string(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, str)):
        return str(value)
    if value is None:
        raise TemplateError('interpolating a null value')
    raise TemplateError(f'cannot interpolate a {type(value).__name__}: {value!r}')


def build(items, i, terminators):
    """Items from i into a tree until one of terminators; returns (nodes, i, word)."""
    nodes = []
    while i < len(items):
        kind, body = items[i]
        if kind != 'dir':
            nodes.append((kind, body))
            i += 1
            continue
        word = body.split(None, 1)[0] if body else ''
        if word in terminators:
            return nodes, i + 1, word
        if word == 'if':
            then, i, end = build(items, i + 1, ('else', 'endif'))
            other = []
            if end == 'else':
                other, i, end = build(items, i, ('endif',))
            if end != 'endif':
                raise TemplateError(f'%{{ if {body[2:].strip()} }} without %{{ endif }}')
            nodes.append(('if', body[2:].strip(), then, other))
            continue
        if word == 'for':
            m = re.fullmatch(r'for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.+)', body, re.S)
            if not m:
                raise TemplateError(f'%{{ {body} }} is not "for NAME in LIST"')
            loop, i, end = build(items, i + 1, ('endfor',))
            if end != 'endfor':
                raise TemplateError(f'%{{ {body} }} without %{{ endfor }}')
            nodes.append(('for', m.group(1), m.group(2), loop))
            continue
        raise TemplateError(f'directive outside the subset: %{{ {body} }}')
    if terminators:
        raise TemplateError(f'missing %{{ {terminators[-1]} }}')
    return nodes, i, None


def run(nodes, scope, out):
    for node in nodes:
        kind = node[0]
        if kind == 'text':
            out.append(node[1])
        elif kind == 'interp':
            out.append(to_string(evaluate(node[1], scope)))
        elif kind == 'if':
            cond = evaluate(node[1], scope)
            if not isinstance(cond, bool):
                raise TemplateError(f'%{{ if {node[1]} }}: {cond!r} is not a bool')
            run(node[2] if cond else node[3], scope, out)
        elif kind == 'for':
            seq = evaluate(node[2], scope)
            if not isinstance(seq, list):
                raise TemplateError(f'%{{ for }} over {seq!r}, not a list')
            for value in seq:
                run(node[3], dict(scope, **{node[1]: value}), out)


def render(text, scope):
    nodes, _, _ = build(parse(text), 0, ())
    out = []
    run(nodes, scope, out)
    return ''.join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: render.py TEMPLATE VARS-JSON')
    with open(sys.argv[1], encoding='utf-8') as f:
        text = f.read()
    with open(sys.argv[2], encoding='utf-8') as f:
        scope = json.load(f)
    try:
        sys.stdout.write(render(text, scope))
    except TemplateError as e:
        sys.exit(f'{sys.argv[1]}: {e}')


if __name__ == '__main__':
    main()
