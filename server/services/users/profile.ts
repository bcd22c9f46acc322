/**
 * User profiles (client-server profile.yaml, spec v1.16+ custom fields): displayname and
 * avatar_url (in the accounts area's profiles table), m.tz and namespaced custom fields. Only the
 * user changes their profile; a change of displayname or avatar_url is copied into their member
 * event in every joined room (the injected updateMembershipProfiles, from the rooms services).
 */
import { MatrixError, forbidden, missingParam, notFound } from '../../errors.ts';
import { byteLength } from '../../core/ids.ts';
import type { ProfileRecord, SyncDataStore } from '../../storage/sync-data.ts';

/** profile.yaml's keyName pattern. */
const KEY_NAME = /^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;
export const MAX_KEY_BYTES = 255;
export const MAX_PROFILE_BYTES = 64 * 1024;
/** Synapse's limit, which clients expect. */
export const MAX_DISPLAYNAME_LENGTH = 256;

/** A member event's displayname and avatar_url: what the user has set (an empty name stays empty). */
export function memberProfileFrom(store: Pick<SyncDataStore, 'getProfile'>, userId: string): { displayname?: string; avatar_url?: string } {
  const p = store.getProfile(userId);
  const out: { displayname?: string; avatar_url?: string } = {};
  if (p?.displayname != null) out.displayname = p.displayname;
  if (p?.avatar_url != null) out.avatar_url = p.avatar_url;
  return out;
}

export interface ProfileDeps {
  store: Pick<SyncDataStore, 'getProfile' | 'setProfileField'>;
  isLocalUser(userId: string): boolean;
  /** Copies a new displayname/avatar_url into the user's member events (rooms services). */
  updateMembershipProfiles?(userId: string, profile: { displayname: string | null; avatar_url: string | null }): Promise<void>;
  /** Profile of a remote user over federation (undefined: not found). */
  remoteProfile?(userId: string): Promise<Record<string, unknown> | undefined>;
  onError?(message: string, err: unknown): void;
}

export interface ProfileService {
  getProfile(userId: string): Promise<Record<string, unknown>>;
  getField(userId: string, key: string): Promise<Record<string, unknown>>;
  setField(requesterId: string, userId: string, key: string, body: Record<string, unknown>): Promise<void>;
  deleteField(requesterId: string, userId: string, key: string): Promise<void>;
  /** displayname/avatar_url of a local user, for member events ({} when unknown). */
  memberProfile(userId: string): { displayname?: string; avatar_url?: string };
}

function toJson(p: ProfileRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p.fields };
  if (p.displayname !== null) out.displayname = p.displayname;
  if (p.avatar_url !== null) out.avatar_url = p.avatar_url;
  return out;
}

function checkKey(key: string): void {
  if (byteLength(key) > MAX_KEY_BYTES) throw new MatrixError(400, 'M_KEY_TOO_LARGE', `Profile keys are at most ${MAX_KEY_BYTES} bytes.`);
  if (!KEY_NAME.test(key)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid profile key.');
}

function checkValue(key: string, value: unknown): void {
  if (key === 'displayname') {
    if (value !== null && typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'displayname must be a string.');
    if (typeof value === 'string' && value.length > MAX_DISPLAYNAME_LENGTH) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `displayname is longer than ${MAX_DISPLAYNAME_LENGTH} characters.`);
    }
  } else if (key === 'avatar_url') {
    if (value !== null && typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'avatar_url must be a string.');
    if (typeof value === 'string' && value !== '' && !value.startsWith('mxc://')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'avatar_url must be an mxc:// URI.');
    }
  } else if (key === 'm.tz') {
    if (typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'm.tz must be a string.');
  }
}

export function createProfileService(deps: ProfileDeps): ProfileService {
  const load = async (userId: string): Promise<Record<string, unknown>> => {
    if (!deps.isLocalUser(userId)) {
      const remote = await deps.remoteProfile?.(userId);
      if (!remote) throw notFound('Profile not found');
      return remote;
    }
    const p = deps.store.getProfile(userId);
    if (!p) throw notFound('Profile not found');
    return toJson(p);
  };

  const own = (requesterId: string, userId: string): ProfileRecord => {
    if (requesterId !== userId) throw forbidden("Cannot change another user's profile.");
    const p = deps.store.getProfile(userId);
    if (!p) throw notFound('Profile not found');
    return p;
  };

  const write = async (userId: string, key: string, value: unknown): Promise<void> => {
    await deps.store.setProfileField(userId, key, value);
    if ((key === 'displayname' || key === 'avatar_url') && deps.updateMembershipProfiles) {
      const p = deps.store.getProfile(userId);
      try {
        await deps.updateMembershipProfiles(userId, { displayname: p?.displayname ?? null, avatar_url: p?.avatar_url ?? null });
      } catch (err) {
        // The profile itself is saved; a room that refuses the new member event keeps the old one.
        deps.onError?.('updating member events after a profile change failed', err);
      }
    }
  };

  return {
    getProfile: load,

    async getField(userId, key) {
      checkKey(key);
      const profile = await load(userId);
      if (!(key in profile)) throw notFound('Profile field not found');
      return { [key]: profile[key] };
    },

    async setField(requesterId, userId, key, body) {
      checkKey(key);
      const current = own(requesterId, userId);
      if (!(key in body)) throw missingParam(`Missing ${key} in the request body.`);
      let value = body[key];
      checkValue(key, value);
      if ((key === 'displayname' || key === 'avatar_url') && (value === '' || value === null)) value = undefined;
      const next = toJson(current);
      if (value === undefined) delete next[key];
      else next[key] = value;
      if (byteLength(JSON.stringify(next)) > MAX_PROFILE_BYTES) {
        throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', `The profile would exceed ${MAX_PROFILE_BYTES} bytes.`);
      }
      await write(userId, key, value);
    },

    async deleteField(requesterId, userId, key) {
      checkKey(key);
      own(requesterId, userId);
      await write(userId, key, undefined);
    },

    memberProfile: (userId) => memberProfileFrom(deps.store, userId),
  };
}
