// Numbered schema migrations: migrations/NNNN-name.sql, applied in order at startup, each in
// its own journaled write transaction together with its row in schema_migrations, so a crash
// leaves a migration either fully applied and recorded or not at all. Where SQLite needs
// different SQL from PostgreSQL, NNNN-name.sqlite.sql takes the place of NNNN-name.sql.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageLog } from '../storage.ts';
import type { SqlJsDatabase } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
}

const MIGRATION_NAME = /^(\d{4})-([A-Za-z0-9_-]+?)(\.sqlite)?\.sql$/;
// Other dialects' variants (NNNN-name.postgres.sql) are not for us.
const OTHER_DIALECT = /^\d{4}-[A-Za-z0-9_-]+\.(?!sqlite\.sql$)[a-z]+\.sql$/;

export function loadMigrations(dir: string): Migration[] {
  const byVersion = new Map<number, Migration & { sqliteOnly: boolean }>();
  for (const file of readdirSync(dir).sort()) {
    if (OTHER_DIALECT.test(file)) continue;
    const m = MIGRATION_NAME.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const candidate = { version, name: m[2]!, file, sql: readFileSync(join(dir, file), 'utf8'), sqliteOnly: m[3] !== undefined };
    const existing = byVersion.get(version);
    if (existing && existing.name !== candidate.name) {
      throw new Error(`two migrations share number ${m[1]}: ${existing.file} and ${file}`);
    }
    if (!existing || candidate.sqliteOnly) byVersion.set(version, candidate);
  }
  return [...byVersion.values()]
    .sort((a, b) => a.version - b.version)
    .map(({ version, name, file, sql }) => ({ version, name, file, sql }));
}

export async function runMigrations(
  db: SqlJsDatabase,
  migrations: Migration[],
  now: () => number,
  log: StorageLog,
): Promise<number[]> {
  const hasTable = db.read((r) => r.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"));
  if (!hasTable) {
    await db.write((w) =>
      w.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)'),
    );
  }
  const applied = new Set(
    db.read((r) => r.all('SELECT version FROM schema_migrations')).map((row) => Number(row['version'])),
  );
  const ran: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    try {
      await db.writeScript((w) => {
        w.runScript(m.sql);
        w.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now()]);
      });
    } catch (err) {
      throw new Error(`migration ${m.file} failed: ${(err as Error).message}`, { cause: err });
    }
    log('info', 'applied schema migration', { file: m.file });
    ran.push(m.version);
  }
  return ran;
}
