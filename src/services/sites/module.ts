/**
 * The sites service as the platform plugs it in: deploys the manifest's `sites` on start and on every
 * reload, serves their files on the data plane beside the HTTP API, and gives the control API their
 * versions and the rollback.
 */
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { ServiceModule } from '../module.js';
import { sitesMigrations } from './migrations.js';
import { SitesService } from './service.js';

/** How often, and past what age, blobs no version names are swept (a deploy cut short left them). */
const SWEEP_EVERY_MS = 60 * 60_000;
const ORPHAN_AGE_MS = 60 * 60_000;

export const sitesModule: ServiceModule<SitesService> = {
  name: 'sites',
  sections: ['sites'],
  migrations: sitesMigrations,
  create(ctx) {
    const sites = new SitesService({ db: ctx.db, blobs: ctx.blobs('sites'), clock: ctx.clock });
    let watched: string[] = [];
    let cancelSweep: (() => void) | undefined;
    const sweep = (): void => {
      cancelSweep = ctx.clock.setTimer(SWEEP_EVERY_MS, () => {
        sites.sweep(ORPHAN_AGE_MS).then(sweep, (err: unknown) => {
          ctx.events.emit('warning', `sites: sweeping unused files failed: ${String(err)}`);
          sweep();
        });
      });
    };
    sweep();
    return {
      service: sites,
      async deploy(app) {
        const configs = Object.values(app.manifest.sites);
        const changed = await sites.deploy(app.dir, configs);
        // Every folder of the sites, so that `nuvola dev` redeploys when one changes or appears.
        watched = [];
        for (const site of configs) {
          const dir = path.join(app.dir, site.dir);
          const found = await glob('**/*', { cwd: dir, dot: false, onlyDirectories: true, followSymbolicLinks: false, expandDirectories: false, absolute: true });
          // The watcher watches the folder of each path it is given: `<folder>/.` names a folder's own.
          watched.push(`${dir}${path.sep}.`, ...found.map((f) => `${f.replace(/[/\\]$/, '')}${path.sep}.`));
        }
        return { changed };
      },
      files: { claims: (rawPath) => sites.claims(rawPath), serve: (req) => sites.serve(req) },
      sources: () => watched,
      summary: () => sites.summary(),
      control: [
        { method: 'GET', path: 'sites', handle: async () => ({ kind: 'json', body: { sites: await sites.list() } }) },
        {
          method: 'POST',
          path: 'sites/:name/rollback',
          handle: async (req) => ({ kind: 'json', body: { name: req.params['name'], current: await sites.rollback(req.params['name']!) } }),
        },
      ],
      close: () => {
        cancelSweep?.();
        return Promise.resolve();
      },
    };
  },
};
