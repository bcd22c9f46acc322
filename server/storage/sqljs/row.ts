/** Small helpers shared by the area stores: reading nullable columns, LIKE patterns. */
import type { SqlRow } from '../storage.ts';

export const str = (v: SqlRow[string] | undefined): string | null => (v === null || v === undefined ? null : String(v));
export const num = (v: SqlRow[string] | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** `s` as literal text in a LIKE pattern with `ESCAPE '\\'`. */
const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A LIKE pattern (with `ESCAPE '\\'`) matching text that contains `s`. */
export const likeContaining = (s: string): string => `%${escapeLike(s)}%`;
