/** Reading nullable columns of a row, shared by the area stores. */
import type { SqlRow } from '../storage.ts';

export const str = (v: SqlRow[string] | undefined): string | null => (v === null || v === undefined ? null : String(v));
export const num = (v: SqlRow[string] | undefined): number | null => (v === null || v === undefined ? null : Number(v));
