import { parseKeys } from './crypto/secrets.ts';
import path from 'node:path';
import { isValidCidr } from './rules/addresses.ts';
import { PUBLISH_BURST, PUBLISH_RATE, RETENTION_DAYS } from './rules/tenants.ts';

/** Every setting Herald reads from the environment, validated in one place. */
export interface Config {
  port: number;
  host: string;
  /** Unset: start an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  logLevel: LogLevel;
  role: ProcessRole;
  operatorKey: string | undefined;
  bootstrapKey: string | undefined;
  dbPoolSize: number;
  shutdownTimeoutMs: number;
  maxQueryDepth: number;
  maxQueryTokens: number;
  maxQueryCost: number;
  /** Other origins whose pages may call the API from a browser (none: same origin only). */
  corsOrigins: string[];
  /** Keys sealing secrets at rest (the first seals); unset: the data directory's own key file. */
  secretKeys: Buffer[] | undefined;
  maxRequestBytes: number;
  /** Smallest retry backoff a webhook may set (tests lower it). */
  minBackoffMs: number;
  /** CIDRs deliveries may reach although they are loopback, private or otherwise special. */
  outboundAllow: string[];
  maxEventBytes: number;
  /** Failed instances in a row after which Herald pauses a webhook. */
  deactivateAfterFailures: number;
  /** Failed attempts in a row after which a webhook's circuit opens (its deliveries wait; one probe at a time). */
  breakerFailures: number;
  /** The first wait of an open circuit before its probe; doubles after each failed probe, up to breakerMaxProbeMs. */
  breakerProbeMs: number;
  breakerMaxProbeMs: number;
  retentionDays: number;
  /** Deliveries one process sends at once. */
  workerConcurrency: number;
  /** Delivery jobs taken from the queue at a time. */
  workerBatchSize: number;
  /** Deliveries of one webhook a process sends at once (a slow receiver holds no more places than this). */
  webhookConcurrency: number;
  /** Events a second a tenant may publish, and at once (a token bucket shared by every api process), unless the operator set its own. */
  publishRate: number;
  publishBurst: number;
  /** Deliveries one publish call may create (its events × the webhooks each matches). */
  maxDeliveriesPerCall: number;
  /** Where people and receivers reach this server (inbox URLs); unset: the address it listens on. */
  publicUrl: string | undefined;
  /** Prometheus metrics (docs/observing.md, "Metrics"): served at /metrics unless off. */
  metrics: MetricsConfig;
  /** OpenTelemetry traces (docs/observing.md, "Traces"): exported over OTLP/HTTP when an endpoint is set. */
  tracing: TracingConfig;
}

export interface TracingConfig {
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; unset: no tracing. */
  endpoint: string | undefined;
  /** Share of new traces kept (a publish that continues its caller's trace follows the caller's choice). */
  sampleRatio: number;
  serviceName: string;
}

export interface MetricsConfig {
  enabled: boolean;
  /** Serve /metrics on this port alone (on `host`), not beside the API; unset: on the API's port. */
  port: number | undefined;
  /** A Bearer token /metrics asks for; unset: open to whoever reaches it. */
  token: string | undefined;
  /** Webhooks that get series of their own (the first this many a process delivers for; the rest add up as "other"). */
  perWebhook: number;
  /** Tenants with series of what waits (those whose oldest ready delivery has waited longest). */
  perTenant: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const PROCESS_ROLES = ['all', 'api', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new Reader(env, problems);
  const config: Config = {
    port: read.int('PORT', 4000, { min: 0, max: 65535 }),
    host: read.string('HOST', '127.0.0.1'),
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: path.resolve(read.string('HERALD_DATA_DIR', '.data')),
    embeddedPgPort: read.int('HERALD_EMBEDDED_PG_PORT', 0, { min: 0, max: 65535 }),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    role: read.oneOf('HERALD_ROLE', PROCESS_ROLES, 'all'),
    operatorKey: read.secret('HERALD_OPERATOR_KEY'),
    bootstrapKey: read.secret('HERALD_BOOTSTRAP_KEY'),
    dbPoolSize: read.int('HERALD_DB_POOL_SIZE', 20, { min: 1, max: 200 }),
    shutdownTimeoutMs: read.int('HERALD_SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0, max: 600_000 }),
    maxQueryDepth: read.int('HERALD_MAX_QUERY_DEPTH', 12, { min: 2, max: 100 }),
    maxQueryTokens: read.int('HERALD_MAX_QUERY_TOKENS', 5_000, { min: 100, max: 1_000_000 }),
    maxQueryCost: read.int('HERALD_MAX_QUERY_COST', 50_000, { min: 100, max: 100_000_000 }),
    maxRequestBytes: read.int('HERALD_MAX_REQUEST_BYTES', 10 * 1024 * 1024, { min: 1024, max: 1024 ** 3 }),
    minBackoffMs: read.int('HERALD_MIN_BACKOFF_MS', 1000, { min: 1, max: 3_600_000 }),
    outboundAllow: read.cidrs('HERALD_OUTBOUND_ALLOW'),
    maxEventBytes: read.int('HERALD_MAX_EVENT_BYTES', 256 * 1024, { min: 1024, max: 10 * 1024 * 1024 }),
    deactivateAfterFailures: read.int('HERALD_DEACTIVATE_AFTER_FAILURES', 25, { min: 1, max: 100_000 }),
    breakerFailures: read.int('HERALD_BREAKER_FAILURES', 10, { min: 1, max: 100_000 }),
    breakerProbeMs: read.int('HERALD_BREAKER_PROBE_MS', 5000, { min: 10, max: 3_600_000 }),
    breakerMaxProbeMs: read.int('HERALD_BREAKER_MAX_PROBE_MS', 300_000, { min: 10, max: 86_400_000 }),
    retentionDays: read.int('HERALD_RETENTION_DAYS', 30, RETENTION_DAYS),
    workerConcurrency: read.int('HERALD_WORKER_CONCURRENCY', 200, { min: 1, max: 1000 }),
    workerBatchSize: read.int('HERALD_WORKER_BATCH_SIZE', 50, { min: 1, max: 1000 }),
    webhookConcurrency: read.int('HERALD_WEBHOOK_CONCURRENCY', 100, { min: 1, max: 1000 }),
    publishRate: read.int('HERALD_PUBLISH_RATE', 10_000, PUBLISH_RATE),
    publishBurst: read.int('HERALD_PUBLISH_BURST', 100_000, PUBLISH_BURST),
    maxDeliveriesPerCall: read.int('HERALD_MAX_DELIVERIES_PER_CALL', 100_000, { min: 1, max: 10_000_000 }),
    publicUrl: read.url('HERALD_PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),
    corsOrigins: read.origins('HERALD_CORS_ORIGINS'),
    secretKeys: read.keys('HERALD_SECRET_KEY'),
    metrics: {
      enabled: read.oneOf('HERALD_METRICS', ['on', 'off'] as const, 'on') === 'on',
      port: read.optionalInt('HERALD_METRICS_PORT', { min: 0, max: 65535 }),
      token: read.secret('HERALD_METRICS_TOKEN'),
      perWebhook: read.int('HERALD_METRICS_WEBHOOKS', 0, { min: 0, max: 1000 }),
      perTenant: read.int('HERALD_METRICS_TENANTS', 10, { min: 0, max: 1000 }),
    },
    tracing: {
      endpoint: read.url('HERALD_TRACES_ENDPOINT', ['http:', 'https:']),
      sampleRatio: read.ratio('HERALD_TRACES_SAMPLE_RATIO', 1),
      serviceName: read.string('HERALD_SERVICE_NAME', 'herald'),
    },
  };
  if (config.breakerMaxProbeMs < config.breakerProbeMs) {
    problems.push(`HERALD_BREAKER_MAX_PROBE_MS (${config.breakerMaxProbeMs}) must be at least HERALD_BREAKER_PROBE_MS (${config.breakerProbeMs})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Minimum length of a key given through the environment (operator and bootstrap keys). */
export const MIN_SECRET_LENGTH = 24;

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, range: { min: number; max: number }): number {
    return this.optionalInt(name, range) ?? fallback;
  }

  optionalInt(name: string, { min, max }: { min: number; max: number }): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name}="${value}" is not allowed: expected a whole number from ${min} to ${max}`);
      return undefined;
    }
    return parsed;
  }

  ratio(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^\d*\.?\d+$/.test(value) || parsed > 1) {
      this.problems.push(`${name}="${value}" is not allowed: expected a number from 0 to 1, such as 0.1`);
      return fallback;
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) {
      this.problems.push(`${name}="${value}" is not allowed: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {
      protocol = undefined;
    }
    if (!protocol || !protocols.includes(protocol)) {
      this.problems.push(`${name} is not a valid URL: expected ${protocols.map((p) => `${p}//…`).join(' or ')}`);
      return undefined;
    }
    return value;
  }

  keys(name: string): Buffer[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      return parseKeys(value);
    } catch (error) {
      this.problems.push(`${name} is not usable: ${(error as Error).message}`);
      return undefined;
    }
  }

  origins(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    const list = value.split(',').map((v) => v.trim().replace(/\/+$/, '')).filter(Boolean);
    const isOrigin = (o: string) => {
      try {
        const url = new URL(o);
        return ['http:', 'https:'].includes(url.protocol) && url.origin === o;
      } catch {
        return false;
      }
    };
    const bad = list.filter((o) => !isOrigin(o));
    if (bad.length > 0) this.problems.push(`${name} has ${bad.map((b) => `"${b}"`).join(', ')}: expected comma-separated origins such as https://admin.example,http://localhost:5173 (scheme, host and port only)`);
    return list.filter(isOrigin);
  }

  cidrs(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    const list = value.split(',').map((v) => v.trim()).filter(Boolean);
    const bad = list.filter((cidr) => !isValidCidr(cidr));
    if (bad.length > 0) this.problems.push(`${name} has ${bad.map((b) => `"${b}"`).join(', ')}: expected comma-separated CIDRs such as 127.0.0.0/8,::1/128`);
    return list.filter(isValidCidr);
  }

  secret(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (value.length < MIN_SECRET_LENGTH || /\s/.test(value)) {
      this.problems.push(`${name} is too weak: expected at least ${MIN_SECRET_LENGTH} characters without spaces`);
      return undefined;
    }
    return value;
  }
}
