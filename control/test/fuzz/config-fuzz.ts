/**
 * Mutation fuzzer of the config loader (`linerate serve --config`): YAML
 * text (config/schema.ts loadConfigFile) to a validated Config, and on to
 * the dataplane's command line (dataplane/spawn.ts dataplaneArgs). The
 * contract it checks on every input: the loader returns a config whose
 * command line can be built, or throws a ConfigError whose every issue
 * names a field (or the YAML position); never another exception, and never
 * more than a bounded CPU time per input (an alias bomb is refused, not
 * expanded). The C side of the same boundary, lr_args_parse, has its own
 * libFuzzer harness (dataplane/tests/fuzz/fuzz_args.c).
 *
 * Inputs are the demo config and the README example mutated by byte and
 * token edits and splices of hostile values. Deterministic for a seed.
 * Used by the unit test (a bounded run) and by scripts/fuzz.sh
 * (`node dist/control/test/fuzz/config-fuzz.js --seconds N`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfigFile, loadConfigText, resolvePaths } from '../../src/config/schema';
import { dataplaneArgs } from '../../src/dataplane/spawn';
import { demoConfigPath } from '../../src/paths';

const README_EXAMPLE = `name: edge1
grpc: { listen: 127.0.0.1:50051 }
dataplane:
  lcores: "0,1"
  eal: ["--no-pci"]
  tables: { routes4: 65536, neighbors: 1024, flows: 256 }
ports:
  - name: p0
    device: net_af_packet0,iface=veth0
    rxQueues: 2
    mtu: 1500
    addresses: [192.0.2.1/24, "2001:db8:1::1/64"]
    rpf: strict
  - name: p1
    device: net_memif0,role=server,socket=/run/linerate/memif.sock
    addresses: [198.51.100.1/24]
router:
  icmpRate: 100
  neighborHold: 32
  puntRates: { arp: 1000, other: 10 }
routes:
  - { prefix: 0.0.0.0/0, via: 198.51.100.254, port: p1 }
neighbors:
  - { address: 198.51.100.254, mac: "02:00:00:00:00:fe", port: p1 }
flows:
  - { id: 1, priority: 10, match: "ip src 10.0.0.0/8 and tcp dport 443", action: drop }
`;

/** Values an attacker or a typo would put anywhere. */
const HOSTILE = [
  '', '0', '-1', '4294967296', '1e309', 'NaN', '.inf', 'null', '~', 'true', '[]', '{}', '"\\u0000"',
  '999999999999999999999', '0x10', '1.5', "'a'", 'a'.repeat(5000), '10.0.0.0/33', '::/129', '256.1.1.1',
  '02:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '!!binary aGVsbG8=', '&a [1]', '*a', '*undefined_alias', '? [a]: b',
  '"p0"', 'p0', 'p9', '__proto__', 'constructor', '{ __proto__: { polluted: 1 } }', '"\\ud800"', '\t', '|\n  x',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', 'net_pcap0,rx_pcap=/etc/passwd',
];

/** A billion-laughs document: must be refused quickly, not expanded. */
const ALIAS_BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
  .concat(Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill('*' + String.fromCharCode(97 + i)).join(',')}]`))
  .join('\n');

/** xorshift32: deterministic inputs for a seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function mutate(text: string, r: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  let s = text;
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 7)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8)); break;                  // delete bytes
      case 1: s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at); break;  // insert a byte
      case 2: s = s.slice(0, at) + pick(HOSTILE) + s.slice(at); break;                             // splice a value
      case 3: {                                                                                       // replace a value
        const lines = s.split('\n');
        const i = Math.floor(r() * lines.length);
        lines[i] = lines[i].replace(/(:\s*)([^,{}\n]*)/, (_m, a: string) => a + pick(HOSTILE));
        s = lines.join('\n');
        break;
      }
      case 4: {                                                                                       // duplicate a line
        const lines = s.split('\n');
        const i = Math.floor(r() * lines.length);
        lines.splice(i, 0, lines[i]);
        s = lines.join('\n');
        break;
      }
      case 5: s = s.replace(/\n {2}/, '\n'); break;                                                   // break indentation
      default: s = s.slice(0, at); break;                                                             // truncate
    }
  }
  return s;
}

/** slowestMs: the most CPU time one input took (process user + system, so GC threads count too). */
export interface FuzzReport { executions: number; valid: number; rejected: number; slowestMs: number }

/**
 * Runs until `iterations` inputs or `seconds` elapsed; throws on the first
 * input that breaks the contract, with the input in the message.
 */
export function fuzzConfig(o: { iterations?: number; seconds?: number; seed?: number; maxMsPerInput?: number;
  onProgress?: (r: FuzzReport) => void }): FuzzReport {
  const r = rng(o.seed ?? 1);
  const seeds = [fs.readFileSync(demoConfigPath, 'utf8'), README_EXAMPLE, ALIAS_BOMB];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lr-config-fuzz-'));
  const file = path.join(dir, 'linerate.yaml');
  const maxMs = o.maxMsPerInput ?? 500;
  const until = Date.now() + (o.seconds ?? 1e9) * 1000;
  const rep: FuzzReport = { executions: 0, valid: 0, rejected: 0, slowestMs: 0 };
  // the yaml package reports ambiguous aliases and such as process warnings: thousands here
  const emitWarning = process.emitWarning;
  process.emitWarning = () => undefined;
  // every rejected input builds errors: no stack traces for them (a fifth of the time);
  // an input that breaks the contract is loaded again with them for the report
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    while (rep.executions < (o.iterations ?? Infinity) && Date.now() < until) {
      const base = seeds[rep.executions % seeds.length];
      const text = rep.executions < seeds.length ? base : mutate(base, r);
      // one input in 1000 goes through the file, as `serve --config` reads it; the rest from
      // memory (the write was 30 % of the fuzzer's time and tests nothing of the loader's)
      const viaFile = rep.executions % 1000 === 0;
      if (viaFile) fs.writeFileSync(file, text);
      // CPU time, not wall time: a niced run on a shared host is preempted for
      // hundreds of ms (seen: 550 ms wall for an input that takes 1.5 ms), while a
      // blow-up (an alias bomb expanded, a quadratic path) burns CPU
      const c0 = process.cpuUsage();
      try {
        const cfg = viaFile ? loadConfigFile(file) : loadConfigText(text, file);
        const argv = dataplaneArgs(resolvePaths(cfg, { stateDir: dir, runDir: dir }));
        if (!argv.includes('--') || argv.some((a) => typeof a !== 'string')) throw new Error(`bad argv ${JSON.stringify(argv)}`);
        rep.valid++;
      } catch (e) {
        if (!(e instanceof ConfigError)) {
          Error.stackTraceLimit = stackLimit;
          let stack = '';
          try { loadConfigText(text, file); } catch (again) { stack = (again as Error).stack ?? ''; }
          throw new Error(`config loader broke its contract (${(e as Error).name}: ${(e as Error).message}) on:\n${text.slice(0, 2000)}\n${stack}`);
        }
        if (e.issues.length === 0 || e.issues.some((i) => i.trim() === '')) throw new Error(`a ConfigError without a named issue on:\n${text}`);
        rep.rejected++;
      }
      const c = process.cpuUsage(c0);
      const ms = (c.user + c.system) / 1000;
      rep.slowestMs = Math.max(rep.slowestMs, ms);
      if (ms > maxMs) throw new Error(`${ms.toFixed(0)} ms of CPU for one input (limit ${maxMs} ms):\n${text.slice(0, 2000)}`);
      rep.executions++;
      if (o.onProgress && rep.executions % 100000 === 0) o.onProgress(rep);
    }
  } finally {
    Error.stackTraceLimit = stackLimit;
    process.emitWarning = emitWarning;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rep;
}

if (require.main === module) {
  const arg = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const seconds = arg('--seconds', 60);
  const runs = arg('--runs', 0);
  const t0 = Date.now();
  // a progress line per 100k inputs on stderr (build/fuzz/config.log): a run stopped early still says how far it got
  const rep = fuzzConfig({ seconds, iterations: runs > 0 ? runs : undefined, seed: Date.now() & 0xffffffff,
    onProgress: (r) => process.stderr.write(`${JSON.stringify({ ...r, seconds: (Date.now() - t0) / 1000 })}\n`) });
  const s = (Date.now() - t0) / 1000;
  console.log(JSON.stringify({ ...rep, seconds: s, perSecond: Math.round(rep.executions / s) }));
}
