/**
 * Request validation at the edge: every body and query is checked against a schema declared next
 * to its handler. A body that is JSON but of the wrong shape is M_BAD_JSON; a missing required
 * field is M_MISSING_PARAM; a bad query value is M_INVALID_PARAM.
 */
import { z } from '../../validation/schema.ts';
import { MatrixError, badJson } from '../../errors.ts';

function describe(issues: z.Issue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export function parseBody<S extends z.Schema>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badJson('Content must be a JSON object.');
  }
  // reportInput: issues carry `input` only when asked, and it tells a missing field from a mistyped one.
  const r = schema.safeParse(body, { reportInput: true });
  if (r.success) return r.data;
  const missing = r.error.issues.find((i) => i.code === 'invalid_type' && 'input' in i && i.input === undefined);
  if (missing) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameter: ${missing.path.join('.')}`);
  throw badJson(describe(r.error.issues));
}

/** A query parameter that may be repeated (`?x=a&x=b`), always as an array. */
export const repeatedParam = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

export function parseQuery<S extends z.Schema>(schema: S, query: unknown): z.infer<S> {
  const r = schema.safeParse(query);
  if (r.success) return r.data;
  throw new MatrixError(400, 'M_INVALID_PARAM', describe(r.error.issues));
}
