/** A typed handle for a runtime service; the type parameter is what `get` returns. */
export interface ServiceKey<T> {
  readonly id: string;
  /** Phantom field carrying the service type; never set. */
  readonly __service?: T;
}

export function serviceKey<T>(id: string): ServiceKey<T> {
  return Object.freeze({ id });
}

export class MissingServiceError extends Error {
  /** A runtime set-up problem, not a bug in the node that asked. */
  readonly code = 'missing_service';
  constructor(readonly serviceId: string) {
    super(`service '${serviceId}' is not registered with this runtime`);
    this.name = 'MissingServiceError';
  }
}

/**
 * Services a node may need (model manager, inputs folder…). The executor only passes them through, so it
 * knows nothing about what they are.
 */
export class ServiceRegistry {
  private readonly values = new Map<string, unknown>();

  set<T>(key: ServiceKey<T>, value: T): this {
    this.values.set(key.id, value);
    return this;
  }

  has(key: ServiceKey<unknown>): boolean {
    return this.values.has(key.id);
  }

  /** The service for `key`; throws MissingServiceError (naming it) when absent. */
  get<T>(key: ServiceKey<T>): T {
    if (!this.values.has(key.id)) throw new MissingServiceError(key.id);
    return this.values.get(key.id) as T;
  }

  tryGet<T>(key: ServiceKey<T>): T | undefined {
    return this.values.get(key.id) as T | undefined;
  }

  ids(): string[] {
    return [...this.values.keys()];
  }
}
