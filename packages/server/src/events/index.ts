export { LocalEventBus, DbEventBus } from './event-bus.ts';
export type { EventBus, EventHandler } from './event-bus.ts';
export type { PlatformEvent, PlatformEventKind, EventOf } from './platform-event.ts';
export { eventMigrations } from './migrations.ts';
export type { EventTables } from './tables.ts';
