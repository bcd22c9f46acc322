/**
 * The message of something caught, for logs, task records and `failures` entries: a thrown value
 * need not be an Error (a rejected string, a library's plain object), and `catch (e)` types it
 * `unknown`.
 */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
