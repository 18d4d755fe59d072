/** Static sites served beside the HTTP API, with atomic deploys and rollback. */
export { SitesService, KEPT_VERSIONS, type SiteInfo, type SiteVersionInfo } from './service.js';
