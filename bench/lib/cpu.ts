// Where a run's CPU went: the whole machine (/proc/stat) and the processes that
// matter (/proc/<pid>/stat), read at the start and the end of a measured window.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const HZ = 100;

export interface Reading {
  at: number;
  machine: { busy: number; total: number };
  /** CPU seconds used so far by each process of each group. */
  groups: Record<string, Map<number, number>>;
}

/** CPU used over a window, in cores (1 = one core busy the whole time). */
export interface CpuUse {
  seconds: number;
  /** Cores busy on the whole machine, of `cpus`. */
  machine: number;
  cpus: number;
  /** Cores used by each group; `other` is the machine's remainder (kernel, other processes). */
  groups: Record<string, number>;
}

/** Groups of processes to account: a name and the pids in it now (read at every reading). */
export type Groups = Record<string, () => number[]>;

export function read(groups: Groups): Reading {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = fields[3]! + fields[4]!;
  const total = fields.reduce((a, b) => a + b, 0);
  const used: Record<string, Map<number, number>> = {};
  for (const [name, pids] of Object.entries(groups)) used[name] = new Map(pids().map((pid) => [pid, processSeconds(pid)]));
  return { at: performance.now(), machine: { busy: total - idle, total }, groups: used };
}

export function between(a: Reading, b: Reading): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  const cpus = os.cpus().length;
  const machine = ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * cpus;
  const groups: Record<string, number> = {};
  // Per process: one that started meanwhile counts from 0; one that ended meanwhile is not seen at
  // the end, and its time since the first reading is lost (was: group sums subtracted, so a
  // long-lived process ending, a database backend say, took its whole past off the group).
  for (const [name, processes] of Object.entries(b.groups)) {
    let used = 0;
    for (const [pid, secondsNow] of processes) used += Math.max(0, secondsNow - (a.groups[name]?.get(pid) ?? 0));
    groups[name] = used / seconds;
  }
  groups.other = Math.max(0, machine - Object.values(groups).reduce((x, y) => x + y, 0));
  return { seconds, machine, cpus, groups };
}

/** A process's CPU time (all its threads), in seconds; 0 once it is gone. */
export function processSeconds(pid: number): number {
  try {
    const after = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(after[11]) + Number(after[12])) / HZ;
  } catch {
    return 0;
  }
}

/** The PostgreSQL server of a data directory: its postmaster and every process it started. */
export function postgresPids(dataDir: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  const pids = [postmaster];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (parent === postmaster) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Microseconds of CPU (all cores) per item of a window that handled `count` items. */
export function perItem(cores: number, use: CpuUse, count: number): number {
  return (cores * use.seconds * 1e6) / count;
}
