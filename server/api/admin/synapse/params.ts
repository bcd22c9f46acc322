/**
 * Query parameter schemas shared by the Synapse admin API handlers, parsed as Synapse's
 * parse_integer / parse_boolean / parse_string do: booleans are the strings `true` and `false`,
 * offsets and limits non-negative integers, directions `f` or `b`.
 */
import { z } from '../../../validation/schema.ts';

export const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

export const offsetParam = z.coerce.number().int().min(0).default(0);

export const limitParam = (fallback = 100) => z.coerce.number().int().min(0).default(fallback);

export const dirParam = z.enum(['f', 'b']);

/** Synapse's offset pagination: the next offset while results remain. */
export function nextToken(from: number, returned: number, total: number): number | undefined {
  return from + returned < total ? from + returned : undefined;
}
