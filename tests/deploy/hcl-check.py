#!/usr/bin/python3
"""Static checks of deploy/terraform and deploy/packer, from hcl-dump's JSON
(HashiCorp's HCL v2 parser):

- every variable has a description and a type; every output a description;
  both READMEs list every variable and output (Packer's: every variable);
- the module has the issue's inputs and outputs;
- templatefile()'s variables are exactly what user-data.sh.tftpl uses, and
  what the user-data test renders it with (VARS-KEYS);
- per mode (two-eni, single-eni, HA pair) the resource counts the module's
  own count expressions give, evaluated here for the mode's inputs: the
  security group and its ingress from the private subnets, the ENIs with
  the source/destination check off at device index 0 and 1, the Elastic IP
  on the public ENI (the floating address with a pair), the 0.0.0.0/0 routes
  to the private ENI (the only ENI single-ENI), and for the pair VRRP
  (protocol 112), conntrackd's port and the IAM policy of
  doc/high-availability.md;
- the Packer template bakes both architectures from AL2023's SSM parameter
  and runs natd --check-config and systemctl enable natd.

Usage: hcl-check.py SOURCE-DIR DUMP-JSON VARS-KEYS-JSON
"""
import json
import re
import sys

FAILURES = []
PASSES = 0


def check(ok, what):
    global PASSES
    if ok:
        PASSES += 1
        print(f'[deploy.hcl] PASS {what}')
    else:
        FAILURES.append(what)
        print(f'[deploy.hcl] FAIL {what}', file=sys.stderr)


# --- a tiny evaluator for the module's count/for_each/local expressions ------

class Unknown(Exception):
    pass


TOK = re.compile(r'\s*(?:(\?|:|\+|>=|<=|>|<|\|\||&&|==|!=|!|\(|\)|\[|\]|,)|("(?:[^"\\]|\\.)*")|(-?\d+)|([A-Za-z_][A-Za-z0-9_.\-\[\]\*]*))')


def tokenize(expr):
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOK.match(expr, pos)
        if not m or m.end() == pos:
            raise Unknown(expr)
        pos = m.end()
        op, s, n, name = m.groups()
        if op:
            out.append(('op', op))
        elif s is not None:
            out.append(('val', json.loads(s)))
        elif n is not None:
            out.append(('val', int(n)))
        else:
            out.append(('name', name))
    return out


class Evaluator:
    """HCL's ?:, ||, &&, ==, !=, <, >, +, !, length(), toset([]), var./local./count.index."""

    def __init__(self, variables, local_exprs):
        self.vars = variables
        self.local_exprs = local_exprs
        self.locals = {}

    def value(self, expr, scope=None):
        self.scope = scope or {}
        self.toks = tokenize(expr)
        self.i = 0
        v = self.ternary()
        if self.i != len(self.toks):
            raise Unknown(expr)
        return v

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, op):
        if self.peek() == ('op', op):
            self.i += 1
            return True
        return False

    def ternary(self):
        c = self.or_()
        if self.take('?'):
            a = self.ternary()
            if not self.take(':'):
                raise Unknown('?:')
            b = self.ternary()
            return a if c else b
        return c

    def or_(self):
        v = self.and_()
        while self.take('||'):
            w = self.and_()
            v = v or w
        return v

    def and_(self):
        v = self.eq()
        while self.take('&&'):
            w = self.eq()
            v = v and w
        return v

    def eq(self):
        v = self.cmp()
        while self.peek() in (('op', '=='), ('op', '!=')):
            op = self.toks[self.i][1]
            self.i += 1
            w = self.cmp()
            v = (v == w) if op == '==' else (v != w)
        return v

    def cmp(self):
        v = self.add()
        while self.peek() in (('op', '>'), ('op', '<'), ('op', '>='), ('op', '<=')):
            op = self.toks[self.i][1]
            self.i += 1
            w = self.add()
            v = {'>': v > w, '<': v < w, '>=': v >= w, '<=': v <= w}[op]
        return v

    def add(self):
        v = self.unary()
        while self.take('+'):
            v = v + self.unary()
        return v

    def unary(self):
        if self.take('!'):
            return not self.unary()
        if self.take('('):
            v = self.ternary()
            self.take(')')
            return v
        if self.take('['):
            items = []
            while not self.take(']'):
                items.append(self.ternary())
                self.take(',')
            return items
        kind, v = self.peek()
        self.i += 1
        if kind == 'val':
            return v
        if kind != 'name':
            raise Unknown(str(v))
        if v in ('true', 'false'):
            return v == 'true'
        if v == 'null':
            return None
        if v in ('length', 'toset') and self.take('('):
            arg = self.ternary()
            self.take(')')
            return len(arg) if v == 'length' else arg
        if v.startswith('var.'):
            return self.vars[v[4:]]
        if v.startswith('local.'):
            name = v[6:]
            if name not in self.locals:
                saved = (self.toks, self.i, self.scope)
                self.locals[name] = self.value(self.local_exprs[name])
                self.toks, self.i, self.scope = saved
            return self.locals[name]
        if v in self.scope:
            return self.scope[v]
        raise Unknown(v)


def main():
    src, dump_path, keys_path = sys.argv[1:4]
    with open(dump_path, encoding='utf-8') as f:
        dump = json.load(f)
    with open(keys_path, encoding='utf-8') as f:
        test_keys = json.load(f)

    tf = {p: b for p, b in dump.items() if '/terraform/' in p}
    pk = {p: b for p, b in dump.items() if '/packer/' in p}
    tf_blocks = [b for blocks in tf.values() for b in blocks]
    pk_blocks = [b for blocks in pk.values() for b in blocks]

    # Variables and outputs documented.
    tf_readme = open(f'{src}/deploy/terraform/README.md', encoding='utf-8').read()
    pk_readme = open(f'{src}/deploy/packer/README.md', encoding='utf-8').read()
    for where, blocks, readme in (('terraform', tf_blocks, tf_readme), ('packer', pk_blocks, pk_readme)):
        for b in blocks:
            if b['type'] not in ('variable', 'output'):
                continue
            name = b['labels'][0]
            desc = b['strings'].get('description', '')
            check(len(desc) >= 10, f'{where} {b["type"]} "{name}" has a description')
            if b['type'] == 'variable':
                check('type' in b['attrs'], f'{where} variable "{name}" has a type')
            check(f'`{name}`' in readme, f'{where} {b["type"]} "{name}" is in deploy/{where}/README.md')

    variables = {b['labels'][0]: b for b in tf_blocks if b['type'] == 'variable'}
    outputs = {b['labels'][0] for b in tf_blocks if b['type'] == 'output'}
    wanted_inputs = ['vpc', 'public_subnet', 'private_subnets', 'route_tables', 'iam_profile',
                     'elastic_ip', 'additional_sg', 'additional_cidr', 'instance_type', 'ami',
                     'natd_rpm_url', 'mode', 'high_availability', 'metrics_port', 'health_port']
    missing = [v for v in wanted_inputs if v not in variables]
    check(not missing, f'the module has the inputs {", ".join(wanted_inputs)} (missing: {missing})')
    wanted_outputs = ['public_ip', 'security_group_id', 'instance_ids', 'private_eni_id']
    missing = [o for o in wanted_outputs if o not in outputs]
    check(not missing, f'the module has the outputs {", ".join(wanted_outputs)} (missing: {missing})')
    check(variables['elastic_ip']['attrs'].get('default') == 'true', 'elastic_ip defaults to true')
    check(variables['ami']['attrs'].get('default') == 'null', 'ami defaults to null (the SSM parameter)')

    resources = {}
    for b in tf_blocks:
        if b['type'] in ('resource', 'data'):
            resources[(b['type'],) + tuple(b['labels'])] = b
    res = lambda t, n: resources.get(('resource', t, n))
    locals_ = {}
    for b in tf_blocks:
        if b['type'] == 'locals':
            locals_.update(b['attrs'])

    ssm = resources.get(('data', 'aws_ssm_parameter', 'al2023'))
    check(ssm is not None and '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-' in ssm['attrs'].get('name', ''),
          'the default AMI is AL2023 from /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-ARCH')

    # templatefile's variables: the template's, and the test's.
    inst = res('aws_instance', 'nat')
    ud = inst['attrs'].get('user_data', '')
    m = re.search(r'templatefile\("\$\{path\.module\}/([^"]+)",\s*\{(.*)\}\s*\)\s*$', ud, re.S)
    check(m is not None, 'aws_instance.nat user_data = templatefile(...) with an object of variables')
    tf_keys = set(re.findall(r'^\s*([a-z_]+)\s*=', m.group(2), re.M)) if m else set()
    template = open(f'{src}/deploy/terraform/{m.group(1) if m else "user-data.sh.tftpl"}', encoding='utf-8').read()
    used = set()
    for expr in re.findall(r'(?<!\$)\$\{~?(.*?)~?\}', template) + re.findall(r'(?<!%)%\{~?(.*?)~?\}', template):
        expr = re.sub(r'"(?:[^"\\]|\\.)*"', '', expr)
        words = re.findall(r'[A-Za-z_][A-Za-z0-9_]*', expr)
        loopvars = re.findall(r'for\s+([a-z_]+)\s+in', expr)
        used.update(w for w in words if w not in ('if', 'else', 'endif', 'for', 'in', 'endfor', 'true', 'false'))
        used.difference_update(loopvars)
    loop_names = set(re.findall(r'%\{~?\s*for\s+([a-z_]+)\s+in', template))
    used -= loop_names
    check(used <= tf_keys, f'the template uses only variables templatefile passes (extra: {sorted(used - tf_keys)})')
    check(tf_keys <= used, f'templatefile passes only variables the template uses (unused: {sorted(tf_keys - used)})')
    check(set(test_keys) == tf_keys, f'the user-data test renders with templatefile\'s variables (test only: {sorted(set(test_keys) - tf_keys)}, module only: {sorted(tf_keys - set(test_keys))})')

    # The HA policy of doc/high-availability.md.
    doc = open(f'{src}/doc/high-availability.md', encoding='utf-8').read()
    policy = json.loads(re.search(r'```json\n(.*?)```', doc, re.S).group(1))
    doc_actions = sorted(a for st in policy['Statement'] for a in ([st['Action']] if isinstance(st['Action'], str) else st['Action']))
    pol = resources.get(('data', 'aws_iam_policy_document', 'ha'))
    mod_actions = sorted(a for st in (pol['blocks'] if pol else []) if st['type'] == 'statement'
                         for a in re.findall(r'"(ec2:[A-Za-z]+)"', st['attrs'].get('actions', '')))
    check(mod_actions == doc_actions, f'the pair\'s IAM policy has exactly the actions of doc/high-availability.md ({", ".join(doc_actions)})')
    port = re.search(r'UDP (\d+) \(conntrackd\)', doc)
    locals_src = {k: v for b in tf_blocks if b['type'] == 'locals' for k, v in b['attrs'].items()}
    check(port and locals_src.get('conntrackd_port') == port.group(1),
          f'local.conntrackd_port is doc/high-availability.md\'s UDP {port.group(1) if port else "?"}')

    # Per mode: what the count expressions create.
    base = {n: None for n in variables}
    for n, b in variables.items():
        d = b['attrs'].get('default')
        if d is not None:
            try:
                base[n] = json.loads(d)
            except ValueError:
                base[n] = None if d == 'null' else d
    base.update(vpc='vpc-0123456789abcdef0', public_subnet='subnet-00000000000000001',
                private_subnets=['subnet-00000000000000002', 'subnet-00000000000000003'],
                route_tables=['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210'], natd_rpm_url='https://example.com/natd.rpm')
    modes = {
        'two-eni': dict(base),
        'single-eni': dict(base, mode='single-eni', additional_cidr=['192.168.0.0/16']),
        'ha': dict(base, high_availability=True),
    }
    expect = {'two-eni': (1, 1, 1), 'single-eni': (1, 0, 1), 'ha': (2, 2, 1)}  # instances, private ENIs, EIPs
    for mode, vs in modes.items():
        ev = Evaluator(vs, locals_)

        def count(r):
            b = res(*r)
            if b is None:
                return 0
            if 'count' in b['attrs']:
                return ev.value(b['attrs']['count'])
            if 'for_each' in b['attrs']:
                return len(ev.value(b['attrs']['for_each']))
            return 1
        n_inst, n_priv, n_eip = expect[mode]
        check(count(('aws_security_group', 'nat')) == 1, f'{mode}: one security group')
        sg_in = res('aws_vpc_security_group_ingress_rule', 'from_private')
        n_src = len(vs['private_subnets']) + len(vs['additional_cidr'])
        check(count(('aws_vpc_security_group_ingress_rule', 'from_private')) == n_src and sg_in['strings'].get('ip_protocol') == '-1'
              and 'aws_security_group.nat.id' in sg_in['attrs'].get('security_group_id', ''),
              f'{mode}: the security group allows all protocols (-1) from every private subnet and additional_cidr ({n_src} rules)')
        check(count(('aws_vpc_security_group_ingress_rule', 'metrics')) == 0
              and ev.value(res('aws_vpc_security_group_ingress_rule', 'metrics')['attrs']['count'].replace('var.metrics_port == null', 'false')) == 2,
              f'{mode}: no metrics rule without metrics_port, one per private subnet with it')
        check(count(('aws_instance', 'nat')) == n_inst, f'{mode}: {n_inst} NAT instance(s)')
        for eni, n in (('public', n_inst), ('private', n_priv)):
            b = res('aws_network_interface', eni)
            check(count(('aws_network_interface', eni)) == n and b['attrs'].get('source_dest_check') == 'false'
                  and 'aws_security_group.nat.id' in b['attrs'].get('security_groups', ''),
                  f'{mode}: {n} {eni} ENI(s), source/destination check off, in the security group')
        nis = [blk for blk in inst['blocks'] if blk['type'] == 'network_interface']
        dyn = [blk for blk in inst['blocks'] if blk['type'] == 'dynamic' and blk['labels'] == ['network_interface']]
        check(any(blk['attrs'].get('device_index') == '0' and 'aws_network_interface.public' in blk['attrs'].get('network_interface_id', '') for blk in nis),
              f'{mode}: the public ENI at device index 0')
        if n_priv:
            ok = bool(dyn) and len(ev.value(dyn[0]['attrs']['for_each'].replace('[aws_network_interface.private[count.index].id]', '["eni"]'))) == 1 \
                and any(c['attrs'].get('device_index') == '1' for c in dyn[0]['blocks'] if c['type'] == 'content') \
                and 'aws_network_interface.private' in dyn[0]['attrs']['for_each']
            check(ok, f'{mode}: the private ENI at device index 1')
        else:
            check(len(ev.value(dyn[0]['attrs']['for_each'].replace('[aws_network_interface.private[count.index].id]', '["eni"]'))) == 0,
                  f'{mode}: no second ENI')
        eip = res('aws_eip', 'nat')
        check(count(('aws_eip', 'nat')) == n_eip and 'aws_network_interface.public[0].id' in eip['attrs'].get('network_interface', ''),
              f'{mode}: the Elastic IP on the public ENI')
        route = res('aws_route', 'default')
        target = ev.value(locals_['route_eni'].replace('one(aws_network_interface.private[*].id)', '"private"').replace('aws_network_interface.public[0].id', '"public"'))
        want = 'public' if mode == 'single-eni' else 'private'
        check(count(('aws_route', 'default')) == 2 and route['strings'].get('destination_cidr_block') == '0.0.0.0/0'
              and route['attrs'].get('network_interface_id') == 'local.route_eni' and target == want,
              f'{mode}: 0.0.0.0/0 in every route table to the {want} ENI')
        ha = mode == 'ha'
        vrrp = res('aws_vpc_security_group_ingress_rule', 'vrrp')
        ct = res('aws_vpc_security_group_ingress_rule', 'conntrackd')
        check(count(('aws_vpc_security_group_ingress_rule', 'vrrp')) == int(ha) and vrrp['strings'].get('ip_protocol') == '112'
              and 'aws_security_group.nat.id' in vrrp['attrs'].get('referenced_security_group_id', ''),
              f'{mode}: VRRP (IP protocol 112) between the pair {"allowed" if ha else "not opened"}')
        check(count(('aws_vpc_security_group_ingress_rule', 'conntrackd')) == int(ha) and ct['strings'].get('ip_protocol') == 'udp'
              and ct['attrs'].get('from_port') == 'local.conntrackd_port',
              f'{mode}: conntrackd\'s UDP port between the pair {"allowed" if ha else "not opened"}')
        check(count(('aws_iam_role_policy', 'ha')) == int(ha) and count(('terraform_data', 'floating_address')) == int(ha),
              f'{mode}: the pair\'s IAM policy and floating address {"created" if ha else "absent"}')
        if ha:
            check('floating_address' in eip['attrs'].get('associate_with_private_ip', ''),
                  f'{mode}: the Elastic IP on the floating address')

    # Packer.
    srcs = [b for b in pk_blocks if b['type'] == 'source' and b['labels'][0] == 'amazon-ebs']
    params = {b['labels'][1]: b['strings'].get('name', '') for b in pk_blocks if b['type'] == 'data' and b['labels'][0] == 'amazon-parameterstore'}
    check(sorted(b['labels'][1] for b in srcs) == ['arm64', 'x86_64'], 'packer: amazon-ebs sources for x86_64 and arm64')
    check(sorted(params.values()) == ['/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
                                      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'],
          'packer: both from AL2023\'s SSM parameters')
    build = [b for b in pk_blocks if b['type'] == 'build']
    inline = ' '.join(p['attrs'].get('inline', '') for b in build for p in b['blocks'] if p['type'] == 'provisioner')
    for step in ('dnf install -y /tmp/natd.rpm', 'natd --check-config', 'systemctl enable natd'):
        check(step in inline, f'packer: the build runs "{step}"')
    check(bool(build) and all(f'source.amazon-ebs.{a}' in build[0]['attrs'].get('sources', '') for a in ('x86_64', 'arm64')),
          'packer: the build uses both sources')

    if FAILURES:
        print(f'[deploy.hcl] {len(FAILURES)} check(s) failed', file=sys.stderr)
        sys.exit(1)
    print(f'[deploy.hcl] OK: {PASSES} checks passed')


if __name__ == '__main__':
    main()
