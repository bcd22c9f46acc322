/**
 * What the TLS manager (tls.ts) and the backup service (backups.ts) report about themselves:
 * plain data that the admin API (`/_hearth/api/v1/tls`, `/backups`) sends as is and main/alerts.ts
 * watches. Types and two lists of names, with no imports, because server/api/admin/hearth/types.ts
 * re-exports the types to the admin GUI, which type-checks without Node and must not import
 * services; settings and the admin API validate against the lists.
 */

export const TLS_MODES = ['none', 'self-signed', 'acme-http', 'acme-dns', 'files', 'proxy'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
/** The DNS-01 providers acme.ts can drive ('hook': the admin's own command). */
export const DNS_PROVIDERS = ['desec', 'duckdns', 'hook'] as const;
export type DnsProviderName = (typeof DNS_PROVIDERS)[number];

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: number;
  notAfter: number;
  /** DNS names and IP addresses the certificate is valid for. */
  names: string[];
  fingerprintSha256: string;
}

export interface TlsStatus {
  mode: TlsMode;
  /** The certificate being served, if any. */
  certificate: CertificateInfo | null;
  /** A temporary self-signed certificate is served while Let's Encrypt has not answered yet. */
  temporary: boolean;
  /** Self-signed mode: the CA certificate phones must trust is available for download. */
  caCertificate: CertificateInfo | null;
  /** An ACME request is running. */
  busy: boolean;
  /** When the next ACME renewal is due (30 days before expiry). */
  renewAfter: number | null;
  lastError: string | null;
}

export interface BackupInfo {
  name: string;
  path: string;
  sizeBytes: number;
  createdTs: number;
}

export interface BackupStatus {
  dir: string | null;
  intervalHours: number | null;
  keep: number;
  running: boolean;
  lastError: string | null;
  lastBackup: BackupInfo | null;
  /** When the schedule takes the next one (null without a schedule). */
  nextBackupTs: number | null;
  backups: BackupInfo[];
}
