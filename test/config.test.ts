import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { START_ARGS } from './support/process.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('has working defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', databaseUrl: undefined, logLevel: 'info', role: 'all' });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.metrics).toEqual({ enabled: true, port: undefined, token: undefined, perWebhook: 0, perTenant: 10 });
    expect({ rate: config.publishRate, burst: config.publishBurst, perCall: config.maxDeliveriesPerCall }).toEqual({ rate: 10_000, burst: 100_000, perCall: 100_000 });
    expect(config.tracing).toEqual({ endpoint: undefined, sampleRatio: 1, serviceName: 'herald' });
  });

  it.each([
    ['PORT', 'abc', /PORT="abc".*whole number from 0 to 65535/],
    ['PORT', '70000', /PORT="70000".*from 0 to 65535/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud".*one of fatal, error, warn, info, debug, trace, silent/],
    ['HERALD_ROLE', 'both', /HERALD_ROLE="both".*one of all, api, worker/],
    ['DATABASE_URL', 'mysql://localhost/db', /DATABASE_URL.*postgres:\/\/… or postgresql:\/\//],
    ['DATABASE_URL', 'not a url', /DATABASE_URL is not a valid URL/],
    ['HERALD_OPERATOR_KEY', 'short', /HERALD_OPERATOR_KEY.*at least 24 characters/],
    ['HERALD_BOOTSTRAP_KEY', 'has spaces in it but is long enough', /HERALD_BOOTSTRAP_KEY.*without spaces/],
    ['HERALD_DB_POOL_SIZE', '0', /HERALD_DB_POOL_SIZE="0".*from 1 to 200/],
    ['HERALD_METRICS', 'yes', /HERALD_METRICS="yes".*one of on, off/],
    ['HERALD_METRICS_PORT', '-1', /HERALD_METRICS_PORT="-1".*from 0 to 65535/],
    ['HERALD_METRICS_TOKEN', 'short', /HERALD_METRICS_TOKEN.*at least 24 characters/],
    ['HERALD_METRICS_WEBHOOKS', '5000', /HERALD_METRICS_WEBHOOKS="5000".*from 0 to 1000/],
    ['HERALD_TRACES_ENDPOINT', 'collector:4318', /HERALD_TRACES_ENDPOINT is not a valid URL/],
    ['HERALD_TRACES_SAMPLE_RATIO', '1.5', /HERALD_TRACES_SAMPLE_RATIO="1.5".*from 0 to 1/],
    ['HERALD_TRACES_SAMPLE_RATIO', 'half', /HERALD_TRACES_SAMPLE_RATIO="half".*from 0 to 1/],
  ])('refuses %s=%s, naming the variable and what is allowed', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('reports every bad variable at once', () => {
    expect(problemsOf({ PORT: 'x', LOG_LEVEL: 'y' })).toHaveLength(2);
  });

  it('does not echo secrets back in its messages', () => {
    const [problem] = problemsOf({ HERALD_OPERATOR_KEY: 'sekrit' });
    expect(problem).not.toContain('sekrit');
  });

  it('stops start-up with the message and a non-zero exit', () => {
    const result = spawnSync(process.execPath, START_ARGS, {
      env: { ...process.env, PORT: 'eighty', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Herald cannot start');
    expect(result.stderr).toContain('PORT="eighty" is not allowed: expected a whole number from 0 to 65535');
  });
});
