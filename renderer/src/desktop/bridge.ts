/**
 * The desktop shell's preload bridge (`window.hearth`), typed by main/ipc-contract.ts. In a
 * browser it is absent, so desktop-only controls hide and sign-in goes through /login.
 */
import type { HearthBridge } from '../../../main/ipc-contract.ts';
import { errorMessage } from '../error-message.ts';

declare global {
  interface Window {
    hearth?: HearthBridge;
  }
}

export function desktopBridge(): HearthBridge | undefined {
  return typeof window !== 'undefined' ? window.hearth : undefined;
}

/** A failed bridge call's message, without the "Error invoking remote method 'hearth:…'" Electron adds. */
export function bridgeErrorText(e: unknown): string {
  return errorMessage(e).replace(/^Error invoking remote method '[^']*': (?:Error: )?/, '');
}
