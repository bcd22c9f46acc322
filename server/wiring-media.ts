/**
 * Wiring of the media repository (issue 6), part of the composition root: metadata storage, the
 * files under <dataDir>/media/, quotas, thumbnails, the remote media cache, URL previews, and the
 * client (/_matrix/media, /_matrix/client/v1/media) and federation (/_matrix/federation/v1/media)
 * endpoints. Other parts reach the same services with `await mediaServices(ctx)` (memoised on the
 * wiring context): the Synapse admin API calls the repository's list/delete/quarantine/purge
 * methods. The media part plugs in the federation RemoteMediaFetcher (`setRemoteFetcher`).
 */
import type { WiringContext, WiringPart } from './wiring.ts';
import type { Settings } from './config/settings.ts';
import type { Logger } from './logger.ts';
import type { Database } from './storage/storage.ts';
import { createSqlJsMediaStore } from './storage/sqljs/media.ts';
import { MediaDisk } from './services/media/disk.ts';
import { MediaQuotas } from './services/media/quotas.ts';
import { Thumbnailer } from './services/media/thumbnails.ts';
import { RemoteMediaCache, type RemoteMediaFetcher } from './services/media/remote.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, MediaRepository } from './services/media/store.ts';
import { UrlPreviewer } from './services/media/url-preview.ts';
import { federationTransport } from './wiring-federation.ts';
import { FederationMediaFetcher } from './services/federation/media-fetcher.ts';
import * as mediaApi from './api/media/media.ts';
import * as federationMediaApi from './api/federation/media.ts';

export interface MediaServices {
  repository: MediaRepository;
  previews: UrlPreviewer;
  /** Plugs in the federation media download (until then remote media is 404). */
  setRemoteFetcher(fetcher: RemoteMediaFetcher): void;
}

const built = new WeakMap<WiringContext, Promise<MediaServices>>();

/** The media services of this homeserver, built on first use. */
export function mediaServices(ctx: WiringContext): Promise<MediaServices> {
  let m = built.get(ctx);
  if (!m) {
    m = build(ctx);
    built.set(ctx, m);
  }
  return m;
}

export interface MediaServicesInput {
  db: Database;
  settings: () => Settings;
  serverName: string;
  log: Logger;
}

function build(ctx: WiringContext): Promise<MediaServices> {
  return createMediaServices({ db: ctx.db, settings: ctx.settings, serverName: ctx.serverName, log: ctx.log });
}

/** Builds the media services over a database (also used by tests and bench/media.ts). */
export async function createMediaServices(input: MediaServicesInput): Promise<MediaServices> {
  const { settings, serverName, log } = input;
  const now = Date.now;
  const store = createSqlJsMediaStore(input.db);
  const disk = new MediaDisk(settings().dataDir);
  await disk.init();
  const quotas = new MediaQuotas(store, settings);
  let fetcher: RemoteMediaFetcher | undefined;
  const remote = new RemoteMediaCache({
    store,
    disk,
    quotas,
    now,
    // Turning federation off in settings stops remote fetches at once (cached copies still serve).
    fetcher: () => (settings().federationEnabled ? fetcher : undefined),
    maxBytes: () => settings().maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    log: (level, msg, fields) => log[level](msg, fields),
  });
  const repository = new MediaRepository({
    store,
    disk,
    quotas,
    thumbnailer: new Thumbnailer(),
    remote,
    serverName,
    settings,
    now,
    log: (level, msg, fields) => log[level](msg, fields),
  });
  repository.start();
  const previews = new UrlPreviewer({
    store,
    settings,
    storeImage: (body, contentType) => repository.storeServerMedia(body, contentType),
    serverName,
    now,
  });
  return { repository, previews, setRemoteFetcher: (f) => void (fetcher = f) };
}

export const mediaPart: WiringPart = async (ctx) => {
  const media = await mediaServices(ctx);
  const federation = await federationTransport(ctx);
  media.setRemoteFetcher(new FederationMediaFetcher({ client: federation.client, maxBytes: () => media.repository.maxUploadBytes() }));
  return {
    mount(r) {
      mediaApi.register(r, { auth: ctx.auth, media: media.repository, previews: media.previews });
      federationMediaApi.register(r, { federationAuth: federation.authMiddleware, serverName: ctx.serverName, media: media.repository });
    },
    close: () => media.repository.close(),
  };
};
