import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';

/** Which device models exist; releases may only name known models. */
export interface ModelCatalogue {
  isKnown(model: string): Promise<boolean>;
}

/** A model is known when a device of it is registered, or an earlier release already names it. */
export class RegistryModelCatalogue implements ModelCatalogue {
  readonly #db: Kysely<Database>;
  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  async isKnown(model: string): Promise<boolean> {
    const d = await this.#db.selectFrom('device').select('id').where('model', '=', model).limit(1).executeTakeFirst();
    if (d) return true;
    const r = await this.#db.selectFrom('release_model').select('release_id').where('model', '=', model).limit(1).executeTakeFirst();
    return r !== undefined;
  }
}
