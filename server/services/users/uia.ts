/**
 * User-Interactive Authentication (spec: client-server "User-Interactive Authentication API").
 * Generic: an endpoint gives its flows and the request's `auth` dict; this either reports the
 * flow complete or throws the 401 `{flows, params, session, completed[, errcode, error]}`.
 * Stages are pluggable (`registerStage`): dummy and password live here, the registration token
 * stage in registration.ts, captcha comes later. Sessions are in memory and short-lived; a
 * session is bound to one operation (and user), so it cannot be replayed for another.
 */
import { randomBytes } from 'node:crypto';
import { MatrixError } from '../../errors.ts';

export interface UiaFlow {
  stages: string[];
}

export interface UiaSession {
  readonly id: string;
  readonly op: string;
  readonly userId: string | undefined;
  readonly createdTs: number;
  /** Completed stages, in order. */
  readonly completed: string[];
  /** Stage-specific data (e.g. the registration token a session holds). */
  readonly data: Map<string, unknown>;
}

export interface StageContext {
  session: UiaSession;
  /** The authenticated user of the request, for stages that check the caller (password). */
  userId: string | undefined;
}

/** Checks one stage's auth dict. Returns true when the stage is completed, or throws a
 * MatrixError (its errcode/error are merged into the 401 body when status is 401). */
export interface StageHandler {
  check(auth: Record<string, unknown>, ctx: StageContext): Promise<boolean> | boolean;
  /** Extra information for the client in `params` (e.g. a captcha public key). */
  params?(): Record<string, unknown> | undefined;
  /** Called when a session holding this stage ends without finishing (expiry). */
  onAbandon?(session: UiaSession): void;
}

export interface UiaRequest {
  /** Names the operation; a session started for one op cannot complete another. */
  op: string;
  flows: UiaFlow[];
  /** The request's `auth` field (anything; validated here). */
  auth: unknown;
  /** The authenticated user, if the endpoint requires one. */
  userId?: string;
}

export interface UiaOptions {
  clock: () => number;
  /** Sessions older than this are forgotten. Default 30 minutes. */
  sessionTtlMs?: number;
}

const MAX_SESSIONS = 10_000;

export class UserInteractiveAuth {
  private readonly sessions = new Map<string, UiaSession & { completed: string[] }>();
  private readonly stages = new Map<string, StageHandler>();
  private readonly ttl: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: UiaOptions) {
    this.ttl = opts.sessionTtlMs ?? 30 * 60_000;
    this.timer = setInterval(() => this.expire(), Math.min(this.ttl, 60_000));
    this.timer.unref();
    this.registerStage('m.login.dummy', { check: () => true });
  }

  registerStage(type: string, handler: StageHandler): void {
    this.stages.set(type, handler);
  }

  /**
   * Returns the completed session when a whole flow is done; otherwise throws the 401. The
   * caller performs the operation, then calls `finish(session)`; on failure it may leave the
   * session open so the client can retry (spec: errors after auth keep the session).
   */
  async authenticate(req: UiaRequest): Promise<UiaSession> {
    this.expire();
    const auth = isObject(req.auth) ? req.auth : undefined;
    const sessionId = auth && typeof auth.session === 'string' ? auth.session : undefined;
    let session: (UiaSession & { completed: string[] }) | undefined;
    if (sessionId !== undefined) {
      session = this.sessions.get(sessionId);
      if (!session) throw new MatrixError(400, 'M_UNRECOGNIZED', 'Unknown or expired user-interactive auth session');
      if (session.op !== req.op || session.userId !== req.userId) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'Requested operation has changed during the UI authentication session.');
      }
    } else {
      session = this.newSession(req);
      // A request without auth never succeeds, even with a dummy flow (spec note).
      if (!auth) throw this.challenge(req, session);
    }
    if (!auth) throw this.challenge(req, session);

    const type = auth.type;
    if (type !== undefined && typeof type !== 'string') throw this.challenge(req, session, 'M_BAD_JSON', 'auth.type must be a string');
    if (typeof type === 'string' && !session.completed.includes(type)) {
      const allowed = req.flows.some(
        (f) => session!.completed.every((c, i) => f.stages[i] === c) && f.stages[session!.completed.length] === type,
      );
      const handler = this.stages.get(type);
      if (!allowed || !handler) throw this.challenge(req, session, 'M_UNRECOGNIZED', `Authentication type ${type} is not expected here`);
      let done: boolean;
      try {
        done = await handler.check(auth, { session, userId: req.userId });
      } catch (e) {
        if (e instanceof MatrixError && e.status === 401) throw this.challenge(req, session, e.errcode, e.message);
        throw e;
      }
      if (!done) throw this.challenge(req, session);
      session.completed.push(type);
    }
    if (req.flows.some((f) => f.stages.length === session!.completed.length && f.stages.every((s, i) => session!.completed[i] === s))) {
      return session;
    }
    throw this.challenge(req, session);
  }

  /** The operation succeeded: the session is used up. */
  finish(session: UiaSession): void {
    this.sessions.delete(session.id);
  }

  /** Params for the flows' stages. */
  params(flows: UiaFlow[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const stage of new Set(flows.flatMap((f) => f.stages))) {
      const p = this.stages.get(stage)?.params?.();
      if (p !== undefined) out[stage] = p;
    }
    return out;
  }

  /** Forgets expired sessions, letting stages release what they held. */
  expire(): void {
    const cutoff = this.opts.clock() - this.ttl;
    for (const s of this.sessions.values()) {
      if (s.createdTs > cutoff) continue;
      this.sessions.delete(s.id);
      for (const stage of s.completed) this.stages.get(stage)?.onAbandon?.(s);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private newSession(req: UiaRequest): UiaSession & { completed: string[] } {
    // Every unauthenticated probe opens a session: bound their number, dropping the oldest.
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.values().next().value!;
      this.sessions.delete(oldest.id);
      for (const stage of oldest.completed) this.stages.get(stage)?.onAbandon?.(oldest);
    }
    const s = { id: randomBytes(18).toString('base64url'), op: req.op, userId: req.userId, createdTs: this.opts.clock(), completed: [], data: new Map() };
    this.sessions.set(s.id, s);
    return s;
  }

  private challenge(req: UiaRequest, session: UiaSession, errcode?: string, error?: string): MatrixError {
    const body = { flows: req.flows, params: this.params(req.flows), session: session.id, completed: [...session.completed] };
    const err = new MatrixError(401, errcode ?? 'M_UNAUTHORIZED', error ?? 'Additional authentication required', body);
    if (errcode === undefined) {
      // Plain challenges carry no errcode/error (spec example); toJSON is overridden below.
      Object.defineProperty(err, 'toJSON', { value: () => body });
    }
    return err;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
