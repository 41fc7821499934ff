import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The Prometheus project's own text-format parser (its Python client, installed by scripts/ensure-test-tools.mjs). */
const PARSER = process.env.PROMETHEUS_PARSER ?? '/usr/lib/python3/dist-packages/prometheus_client/parser.py';

const READ = `
import json, math, sys
sys.path.insert(0, sys.argv[1])
from prometheus_client.parser import text_string_to_metric_families
families = [{"name": f.name, "type": f.type, "help": f.documentation,
             "samples": [{"name": s.name, "labels": s.labels, "value": None if math.isnan(s.value) else s.value} for s in f.samples]}
            for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(families).replace("Infinity", "1e999"))
`;

interface Family {
  name: string;
  type: string;
  help: string;
  /** NaN (as JSON carries it: null) where Prometheus would show NaN. */
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

/** A scrape parsed by Prometheus's parser (it throws on text Prometheus would refuse), with look-ups by sample name and labels. */
export class Scrape {
  /** By family name (a counter's without `_total`, as Prometheus names it). */
  readonly families: Map<string, Family>;

  constructor(readonly text: string) {
    const run = spawnSync('python3', ['-c', READ, path.dirname(path.dirname(PARSER))], { input: text, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`Prometheus's parser refused the scrape: ${run.stderr}`);
    const families = JSON.parse(run.stdout) as Family[];
    for (const f of families) for (const sample of f.samples) sample.value ??= Number.NaN;
    this.families = new Map(families.map((f) => [f.name, f]));
  }

  family(name: string): Family {
    const family = this.families.get(name) ?? this.families.get(name.replace(/_total$/, ''));
    if (!family) throw new Error(`no metric ${name} in the scrape`);
    return family;
  }

  /** The samples named `name` (a histogram's `…_count`, `…_sum`, `…_bucket` too) whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}) {
    const family = this.family(name.replace(/_(count|sum|bucket)$/, ''));
    return family.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of `name`, summed over the samples that match (0 when none does). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((sum, s) => sum + s.value, 0);
  }

  /** A histogram's observation count (over the samples that match). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(`${name}_count`, labels);
  }
}
