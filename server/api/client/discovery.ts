/**
 * Server discovery and version negotiation.
 * Spec: client-server/versions.yaml, wellknown.yaml, support.yaml.
 */
import type { ApiRouter } from '../http/router.ts';

/** Spec versions whose endpoints Hearth serves. Clients pick endpoint paths from this list, so a
 * version is listed only once its endpoints are really served. */
export const SUPPORTED_SPEC_VERSIONS = [
  'r0.6.1',
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
  'v1.5',
  'v1.6',
  'v1.7',
  'v1.8',
  'v1.9',
  'v1.10',
  // v1.11: authenticated media (/_matrix/client/v1/media/*); clients switch to it only when this is listed.
  'v1.11',
  'v1.12',
] as const;

export interface DiscoveryDeps {
  /** The client base URL announced to clients. */
  publicBaseUrl(): string;
  /** Unstable features that really work (feature name → enabled). */
  unstableFeatures(): Record<string, boolean>;
}

export function register(r: ApiRouter, deps: DiscoveryDeps): void {
  r.route('GET', '/_matrix/client/versions', [
    (_req, res) => {
      res.json({ versions: SUPPORTED_SPEC_VERSIONS, unstable_features: deps.unstableFeatures() });
    },
  ]);
  r.route('GET', '/.well-known/matrix/client', [
    (_req, res) => {
      res.json({ 'm.homeserver': { base_url: deps.publicBaseUrl() } });
    },
  ]);
}

export interface CapabilitiesDeps {
  auth: import('express').RequestHandler;
  defaultRoomVersion(): string;
  /** Room version id → 'stable' | 'unstable'. */
  roomVersions(): Record<string, 'stable' | 'unstable'>;
}

/** Spec: client-server/capabilities.yaml. Only capabilities Hearth really honours are enabled. */
export function registerCapabilities(r: ApiRouter, deps: CapabilitiesDeps): void {
  r.client('GET', '/capabilities', [
    deps.auth,
    (_req, res) => {
      res.json({
        capabilities: {
          'm.room_versions': { default: deps.defaultRoomVersion(), available: deps.roomVersions() },
          'm.change_password': { enabled: true },
          'm.set_displayname': { enabled: true },
          'm.set_avatar_url': { enabled: true },
          'm.3pid_changes': { enabled: false },
          'm.get_login_token': { enabled: false },
          'm.profile_fields': { enabled: true },
        },
      });
    },
  ]);
}
