/**
 * Where things are: the package root (found from this file, so that the
 * compiled dist/ and a global npm install both work) and the files shipped
 * in it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'linerate') return dir;
      } catch { /* not ours: keep climbing */ }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`linerate package root not found above ${__dirname}`);
    dir = up;
  }
}

/** Directory holding package.json (the repository root in a checkout). */
export const packageRoot = findRoot();
/** Include dir for the .proto files (imports are "linerate/v1/..."). */
export const protoRoot = path.join(packageRoot, 'proto');
export const protoFiles = ['common', 'port', 'route', 'neighbor', 'stats', 'dataplane', 'flow', 'capture', 'irq', 'core', 'queue', 'upf']
  .map((f) => `linerate/v1/${f}.proto`);
export const defaultDataplaneBinary = path.join(packageRoot, 'build', 'dp', 'dataplane', 'linerate-dp');
export const demoConfigPath = path.join(packageRoot, 'control', 'config', 'demo.yaml');
