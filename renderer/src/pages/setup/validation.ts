/** Checks the wizard makes as you type; the server checks again (server/core/ids.ts). */

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const SERVER_NAME = new RegExp(`^(?:\\[[0-9a-f:.]+\\]|${LABEL}(?:\\.${LABEL})*)(?::(\\d{1,5}))?$`);

export function serverNameProblem(name: string): string | undefined {
  const n = name.trim();
  if (n === '') return 'Enter a server name.';
  if (n !== n.toLowerCase()) return 'Use lowercase letters only.';
  if (/^https?:\/\//.test(n)) return 'Leave out "http://" — just the name, such as smith.family.';
  if (/\s/.test(n)) return 'A server name cannot contain spaces.';
  const m = SERVER_NAME.exec(n);
  if (!m) return 'Use letters, digits, dots and hyphens, such as smith.family or hearth.home.arpa.';
  if (m[1] !== undefined && Number(m[1]) > 65535) return 'The port must be between 1 and 65535.';
  return undefined;
}

/** True for names other servers on the internet can never reach. */
export function isHomeOnlyName(name: string): boolean {
  const host = name.replace(/:\d+$/, '');
  return (
    host === 'localhost' ||
    /\.(local|lan|home|internal|home\.arpa|localhost)$/.test(host) ||
    !host.includes('.') ||
    /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.)/.test(host)
  );
}

export function usernameProblem(username: string): string | undefined {
  const u = username.trim();
  if (u === '') return 'Choose a username.';
  if (!/^[a-z0-9._=\-/+]+$/.test(u)) return 'Use lowercase letters, digits and . _ - = / + only (no spaces).';
  if (u.length > 200) return 'That username is too long.';
  return undefined;
}
