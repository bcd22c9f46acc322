/**
 * The message of something caught: a thrown value need not be an Error, and `catch (e)` types it
 * `unknown`. The GUI's twin of server/error-text.ts (a separate bundle); api/context.tsx's
 * `errorText` builds on it with wording for the admin API's answers.
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
