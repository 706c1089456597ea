// SPDX-License-Identifier: BSD-3-Clause
// Which reference forwarders a run measures, decided before any trial
// (pure: the probes are callbacks). A reference that cannot be measured
// fails the run loudly, with what to do about it, unless the user opted
// out of it (--no-l3fwd, --no-references): a newcomer must never get a
// report without the l3fwd ratio and not notice.

import type { BenchResults, ForwarderId } from './results';

export interface ReferenceOptions {
  /** --no-references gives false */
  references: boolean;
  /** --no-l3fwd gives false */
  l3fwd: boolean;
}

export interface ReferenceProbes {
  /** is dpdk-testpmd installed? */
  testpmd: () => boolean;
  /** builds DPDK's l3fwd if needed: the binary's path; throws with the reason */
  buildL3fwd: () => string;
}

export interface ReferenceChoice {
  /** references to measure, in this order */
  measure: ('testpmd-io' | 'l3fwd-lpm')[];
  l3fwdBinary: string | null;
  /** for the report: each reference, measured or why not */
  references: BenchResults['references'];
}

/** The run cannot measure a reference it was asked for. */
export class ReferenceUnavailable extends Error {
  constructor(readonly reference: ForwarderId, message: string) {
    super(message);
    this.name = 'ReferenceUnavailable';
  }
}

export function chooseReferences(o: ReferenceOptions, probe: ReferenceProbes): ReferenceChoice {
  const out: ReferenceChoice = { measure: [], l3fwdBinary: null, references: {} };
  if (!o.references) {
    out.references['testpmd-io'] = { available: false, reason: 'skipped (--no-references)' };
    out.references['l3fwd-lpm'] = { available: false, reason: 'skipped (--no-references)' };
    return out;
  }
  if (!probe.testpmd()) {
    throw new ReferenceUnavailable('testpmd-io', 'dpdk-testpmd is not installed, and it is the ceiling every ratio is taken to: ' +
      'apt-get install dpdk (npm run setup installs it), or run with --no-references to measure linerate alone');
  }
  out.measure.push('testpmd-io');
  out.references['testpmd-io'] = { available: true };
  if (!o.l3fwd) {
    out.references['l3fwd-lpm'] = { available: false, reason: 'skipped (--no-l3fwd)' };
    return out;
  }
  try {
    out.l3fwdBinary = probe.buildL3fwd();
  } catch (e) {
    const why = ((e as Error).message ?? String(e)).trim().split('\n').slice(-3).join(' ');
    throw new ReferenceUnavailable('l3fwd-lpm', `DPDK l3fwd, a reference of the bench, cannot be built: ${why}. ` +
      'Its sources come with the dpdk-doc package (npm run setup installs it: apt-get install dpdk-doc); ' +
      'or run with --no-l3fwd to measure without it');
  }
  out.measure.push('l3fwd-lpm');
  out.references['l3fwd-lpm'] = { available: true };
  return out;
}

/**
 * After the run: references that were to be measured but have no 64B
 * maximum (they failed to start, or died for good). Each is an error
 * that makes the run fail.
 */
export function unmeasured(choice: ReferenceChoice, measured: (id: ForwarderId) => boolean): { id: ForwarderId; message: string }[] {
  return choice.measure.filter((id) => !measured(id)).map((id) => ({
    id, message: `reference ${id} could not be measured (see the errors above); ${id === 'l3fwd-lpm' ? '--no-l3fwd' : '--no-references'} skips it`,
  }));
}
