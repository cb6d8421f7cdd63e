#!/usr/bin/env python3
"""prom_parse.py FILE [REQUIRED_METRIC...] - parse a Prometheus text
exposition (format 0.0.4) and check the named samples exist.

Uses prometheus_client's parser when it is installed; otherwise a strict
parser of the format's grammar (HELP/TYPE comments, metric and label name
rules, escaped label values, float values, TYPE before samples, one TYPE
per family, counters ending in _total)."""
import re
import sys

NAME = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')


def strict(text):
    types, samples = {}, {}
    for n, line in enumerate(text.split('\n'), 1):
        if not line:
            continue
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                if not NAME.match(parts[2]):
                    raise ValueError(f'line {n}: bad name {parts[2]}')
                if parts[1] == 'TYPE':
                    if parts[2] in types:
                        raise ValueError(f'line {n}: second TYPE for {parts[2]}')
                    if len(parts) < 4 or parts[3] not in ('counter', 'gauge', 'histogram',
                                                          'summary', 'untyped'):
                        raise ValueError(f'line {n}: bad TYPE')
                    if any(s == parts[2] for s in samples):
                        raise ValueError(f'line {n}: TYPE after samples')
                    types[parts[2]] = parts[3]
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)(\s+-?\d+)?$', line)
        if not m:
            raise ValueError(f'line {n}: bad sample: {line}')
        name, labels = m.group(1), m.group(3) or ''
        pos = 0
        while pos < len(labels):
            lm = LABEL.match(labels, pos)
            if not lm:
                raise ValueError(f'line {n}: bad labels: {labels}')
            pos = lm.end()
        float(m.group(4))
        if name not in types:
            raise ValueError(f'line {n}: sample {name} without TYPE')
        if types[name] == 'counter' and not name.endswith('_total'):
            raise ValueError(f'line {n}: counter {name} without _total')
        samples.setdefault(name, []).append(float(m.group(4)))
    return samples


def main():
    text = open(sys.argv[1]).read()
    names = set()
    try:
        from prometheus_client.parser import text_string_to_metric_families
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                names.add(s.name)
        print('prom_parse: prometheus_client parser OK')
    except ImportError:
        pass
    names |= set(strict(text))
    print(f'prom_parse: strict parser OK, {len(names)} metric names')
    missing = [m for m in sys.argv[2:] if m not in names]
    if missing:
        print('prom_parse: missing', missing)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
