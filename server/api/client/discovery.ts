/**
 * Server discovery and version negotiation.
 * Spec: client-server/versions.yaml, wellknown.yaml, support.yaml.
 */
import type { ApiRouter } from '../http/router.ts';

/** Spec versions whose endpoints Hearth serves. Clients pick endpoint paths from this list, so a
 * version is listed only once its endpoints are really served. */
export const SUPPORTED_SPEC_VERSIONS = ['r0.6.1', 'v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6'] as const;

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
