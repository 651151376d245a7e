import type { Generated } from 'kysely';

export interface ClusterEventTable {
  id: Generated<number>;
  at: number;
  /** Discriminant of a `PlatformEvent`. */
  kind: string;
  /** JSON of the event. */
  payload: string;
  /** Node that published it, so it does not deliver its own event twice. */
  origin: string;
}

export interface EventTables {
  cluster_event: ClusterEventTable;
}
