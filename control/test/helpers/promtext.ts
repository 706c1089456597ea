/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for tests: what a scraper would refuse, this throws on, naming the line.
 * It checks metric and label names, label value escapes, that every sample
 * belongs to a family declared by # TYPE before it (counter samples end in
 * _total, histogram/summary suffixes allowed), that no series appears twice
 * and that values are numbers. prom-client ships no parser, hence this one.
 */

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface MetricFamily { name: string; type: string; help: string; samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, where: string): number {
  // Prometheus reads values with Go's strconv.ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
  if (/^[+]?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value "${s}"`);
  return Number(s);
}

/** Parses `{a="x",b="y"}` starting at s[i] === '{'; returns the labels and the index after '}'. */
function parseLabels(s: string, i: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    if (s[i] === '}') return [labels, i + 1];
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = s.slice(i, eq).trim();
    if (!LABEL.test(name) || name.startsWith('__')) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    i = eq + 1;
    if (s[i] !== '"') throw new Error(`${where}: label ${name}: value not quoted`);
    i++;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e === 'n') v += '\n';
        else if (e === '\\' || e === '"') v += e;
        else throw new Error(`${where}: bad escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[name] = v;
    i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`${where}: expected "," or "}" after label ${name}`);
  }
}

function familyOf(name: string, fams: Map<string, MetricFamily>): MetricFamily | undefined {
  const direct = fams.get(name);
  if (direct && direct.type !== 'counter') return direct;
  if (name.endsWith('_total')) {
    const f = fams.get(name.slice(0, -6));
    if (f?.type === 'counter') return f;
    if (direct?.type === 'counter') return direct; // prom-client declares counters with their _total name
  }
  for (const suf of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suf)) continue;
    const f = fams.get(name.slice(0, -suf.length));
    if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
  }
  return undefined;
}

/** Parses an exposition; throws on the first violation. Families keyed by their declared name. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const fams = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const help = new Map<string, string>();
  if (text.length && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  text.split('\n').forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kw, name, rest = ''] = m;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      if (kw === 'HELP') {
        if (help.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        help.set(name, rest);
        const f = fams.get(name);
        if (f) f.help = rest;
        return;
      }
      if (!TYPES.has(rest)) throw new Error(`${where}: bad type "${rest}" for ${name}`);
      if (fams.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
      fams.set(name, { name, type: rest, help: help.get(name) ?? '', samples: [] });
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`${where}: no metric name`);
    const name = nm[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i, where);
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected "value [timestamp]"`);
    const value = parseValue(parts[0], where);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
    const fam = familyOf(name, fams);
    if (!fam) throw new Error(`${where}: sample ${name} has no # TYPE before it`);
    if (fam.type === 'counter' && !name.endsWith('_total') && !name.endsWith('_created')) {
      throw new Error(`${where}: counter sample ${name} does not end in _total`);
    }
    if (fam.type === 'counter' && (value < 0 || Number.isNaN(value))) throw new Error(`${where}: counter ${name} is ${value}`);
    const key = `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`${where}: series ${key} twice`);
    seen.add(key);
    fam.samples.push({ name, labels, value });
  });
  return fams;
}

/** The value of the one sample of `name` whose labels include `labels`, or undefined. */
export function sampleValue(fams: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
