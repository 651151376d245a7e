import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

function getOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Prometheus metrics of the device gateway; safe to build twice on one registry. */
export class GatewayMetrics {
  readonly messages: Counter<'transport' | 'outcome'>;
  readonly refused: Counter<'transport' | 'code'>;
  readonly authFailures: Counter<'transport' | 'code'>;
  readonly connected: Gauge;
  readonly commitBatch: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.messages = getOr(registry, 'medtrust_telemetry_messages_total', () => new Counter({ name: 'medtrust_telemetry_messages_total', help: 'Device messages accepted, by outcome (stored, duplicate)', labelNames: ['transport', 'outcome'], registers }));
    this.refused = getOr(registry, 'medtrust_telemetry_refused_total', () => new Counter({ name: 'medtrust_telemetry_refused_total', help: 'Device messages refused, by error code', labelNames: ['transport', 'code'], registers }));
    this.authFailures = getOr(registry, 'medtrust_gateway_auth_failures_total', () => new Counter({ name: 'medtrust_gateway_auth_failures_total', help: 'Device connections refused, by error code', labelNames: ['transport', 'code'], registers }));
    this.connected = getOr(registry, 'medtrust_gateway_connected_devices', () => new Gauge({ name: 'medtrust_gateway_connected_devices', help: 'Devices connected to the embedded broker', registers }));
    this.commitBatch = getOr(registry, 'medtrust_telemetry_commit_batch_size', () => new Histogram({ name: 'medtrust_telemetry_commit_batch_size', help: 'Messages per telemetry transaction (group commit)', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers }));
  }
}
