import type { Migration } from '../../ports/db.js';

/** The sites service's tables, for `db.kysely.withTables<SitesTables>()`. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type SitesTables = {
  site_versions: SiteVersionsTable;
  sites: SitesTable;
};

export interface SiteVersionsTable {
  site: string;
  version: number;
  created_at: number;
  /** JSON of the version's `SiteFiles`. */
  files: string;
}

export interface SitesTable {
  site: string;
  /** The version served: the latest, unless rolled back. */
  current: number;
}

/** Append; never edit a shipped one. */
export const sitesMigrations: readonly Migration[] = [
  {
    id: 'sites/001-create',
    async up(db) {
      await db.schema
        .createTable('site_versions')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('files', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('site_versions_pk', ['site', 'version'])
        .execute();
      await db.schema
        .createTable('sites')
        .addColumn('site', 'text', (c) => c.primaryKey())
        .addColumn('current', 'integer', (c) => c.notNull())
        .execute();
    },
  },
];
