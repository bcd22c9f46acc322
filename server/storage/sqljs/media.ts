/**
 * sql.js implementation of MediaStore (storage/media.ts; tables media, media_thumbnails and
 * media_url_previews in migrations/0010-media.sql). Every time is a parameter, so journal replay
 * is deterministic.
 */
import type { Database, SqlRow } from '../storage.ts';
import type { ListUserMediaOptions, MediaKey, MediaRecord, MediaStore, ThumbnailRecord, UploadedContent } from '../media.ts';
import { str, num } from './row.ts';

const COLUMNS =
  'origin, media_id, file_id, user_id, content_type, upload_name, size, sha256, created_ts, uploaded_ts, expires_ts, last_access_ts, quarantined_by, safe_from_quarantine';

function toRecord(row: SqlRow): MediaRecord {
  return {
    origin: String(row.origin),
    mediaId: String(row.media_id),
    fileId: String(row.file_id),
    userId: str(row.user_id),
    contentType: str(row.content_type),
    uploadName: str(row.upload_name),
    size: num(row.size),
    sha256: str(row.sha256),
    createdTs: Number(row.created_ts),
    uploadedTs: num(row.uploaded_ts),
    expiresTs: num(row.expires_ts),
    lastAccessTs: Number(row.last_access_ts),
    quarantinedBy: str(row.quarantined_by),
    safeFromQuarantine: Number(row.safe_from_quarantine) === 1,
  };
}

function toThumbnail(row: SqlRow): ThumbnailRecord {
  return {
    origin: String(row.origin),
    mediaId: String(row.media_id),
    width: Number(row.width),
    height: Number(row.height),
    method: String(row.method) as 'crop' | 'scale',
    animated: Number(row.animated) === 1,
    contentType: String(row.content_type),
    size: Number(row.size),
  };
}

const ORDER_COLUMNS: Record<ListUserMediaOptions['orderBy'], string> = {
  created_ts: 'created_ts',
  size: 'size',
  last_access_ts: 'last_access_ts',
  media_id: 'media_id',
  upload_name: 'upload_name',
  content_type: 'content_type',
};

export function createSqlJsMediaStore(db: Database): MediaStore {
  return {
    get(key) {
      const row = db.read((r) => r.get(`SELECT ${COLUMNS} FROM media WHERE origin = ? AND media_id = ?`, [key.origin, key.mediaId]));
      return row ? toRecord(row) : undefined;
    },

    async insert(rec) {
      return db.write((w) => {
        const changes = w.run(
          `INSERT INTO media (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin, media_id) DO NOTHING`,
          [
            rec.origin, rec.mediaId, rec.fileId, rec.userId, rec.contentType, rec.uploadName, rec.size, rec.sha256,
            rec.createdTs, rec.uploadedTs, rec.expiresTs, rec.lastAccessTs, rec.quarantinedBy, rec.safeFromQuarantine ? 1 : 0,
          ],
        ).changes;
        return changes === 1;
      });
    },

    async completeUpload(key: MediaKey, c: UploadedContent) {
      return db.write(
        (w) =>
          w.run(
            `UPDATE media SET content_type = ?, upload_name = ?, size = ?, sha256 = ?, uploaded_ts = ?, expires_ts = NULL, last_access_ts = ?
             WHERE origin = ? AND media_id = ? AND size IS NULL`,
            [c.contentType, c.uploadName, c.size, c.sha256, c.uploadedTs, c.uploadedTs, key.origin, key.mediaId],
          ).changes === 1,
      );
    },

    countPending(userId, now) {
      return Number(
        db.read((r) => r.get('SELECT COUNT(*) AS n FROM media WHERE user_id = ? AND size IS NULL AND expires_ts > ?', [userId, now]))?.n ?? 0,
      );
    },

    userUsage(userId) {
      return Number(db.read((r) => r.get('SELECT COALESCE(SUM(size), 0) AS n FROM media WHERE user_id = ?', [userId]))?.n ?? 0);
    },

    totalUsage() {
      return Number(db.read((r) => r.get('SELECT COALESCE(SUM(size), 0) AS n FROM media'))?.n ?? 0);
    },

    listByUser(userId, opts) {
      const order = opts.dir === 'f' ? 'ASC' : 'DESC';
      return db.read((r) => {
        const total = Number(r.get('SELECT COUNT(*) AS n FROM media WHERE user_id = ?', [userId])?.n ?? 0);
        const rows = r.all(
          `SELECT ${COLUMNS} FROM media WHERE user_id = ? ORDER BY ${ORDER_COLUMNS[opts.orderBy]} ${order}, media_id ${order} LIMIT ? OFFSET ?`,
          [userId, opts.limit, opts.from],
        );
        return { media: rows.map(toRecord), total };
      });
    },

    allByUser(userId) {
      return db.read((r) => r.all(`SELECT ${COLUMNS} FROM media WHERE user_id = ?`, [userId])).map(toRecord);
    },

    remoteAccessedBefore(localOrigin, beforeTs) {
      return db
        .read((r) => r.all(`SELECT ${COLUMNS} FROM media WHERE origin <> ? AND last_access_ts < ?`, [localOrigin, beforeTs]))
        .map(toRecord);
    },

    localCreatedBefore(localOrigin, beforeTs, sizeGt) {
      return db
        .read((r) =>
          r.all(`SELECT ${COLUMNS} FROM media WHERE origin = ? AND created_ts < ? AND size IS NOT NULL AND size > ?`, [localOrigin, beforeTs, sizeGt]),
        )
        .map(toRecord);
    },

    expiredPending(now) {
      return db.read((r) => r.all(`SELECT ${COLUMNS} FROM media WHERE size IS NULL AND expires_ts <= ?`, [now])).map(toRecord);
    },

    async delete(keys) {
      if (keys.length === 0) return;
      await db.write((w) => {
        for (const k of keys) {
          w.run('DELETE FROM media WHERE origin = ? AND media_id = ?', [k.origin, k.mediaId]);
          w.run('DELETE FROM media_thumbnails WHERE origin = ? AND media_id = ?', [k.origin, k.mediaId]);
        }
      });
    },

    async setQuarantine(keys, by) {
      if (keys.length === 0) return 0;
      return db.write((w) => {
        let n = 0;
        for (const k of keys) {
          n +=
            by === null
              ? w.run('UPDATE media SET quarantined_by = NULL WHERE origin = ? AND media_id = ?', [k.origin, k.mediaId]).changes
              : w.run('UPDATE media SET quarantined_by = ? WHERE origin = ? AND media_id = ? AND safe_from_quarantine = 0', [by, k.origin, k.mediaId])
                  .changes;
        }
        return n;
      });
    },

    async setSafeFromQuarantine(key, safe) {
      return db.write(
        (w) =>
          w.run('UPDATE media SET safe_from_quarantine = ? WHERE origin = ? AND media_id = ?', [safe ? 1 : 0, key.origin, key.mediaId]).changes === 1,
      );
    },

    async touch(entries) {
      if (entries.length === 0) return;
      await db.write((w) => {
        for (const e of entries) {
          w.run('UPDATE media SET last_access_ts = ? WHERE origin = ? AND media_id = ? AND last_access_ts < ?', [e.ts, e.origin, e.mediaId, e.ts]);
        }
      });
    },

    getThumbnail(key, width, height, method, animated) {
      const row = db.read((r) =>
        r.get(
          'SELECT * FROM media_thumbnails WHERE origin = ? AND media_id = ? AND width = ? AND height = ? AND method = ? AND animated = ?',
          [key.origin, key.mediaId, width, height, method, animated ? 1 : 0],
        ),
      );
      return row ? toThumbnail(row) : undefined;
    },

    async putThumbnail(t) {
      await db.write((w) =>
        w.run(
          `INSERT INTO media_thumbnails (origin, media_id, width, height, method, animated, content_type, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (origin, media_id, width, height, method, animated) DO UPDATE SET content_type = excluded.content_type, size = excluded.size`,
          [t.origin, t.mediaId, t.width, t.height, t.method, t.animated ? 1 : 0, t.contentType, t.size],
        ),
      );
    },

    getPreview(url) {
      const row = db.read((r) => r.get('SELECT fetched_ts, og FROM media_url_previews WHERE url = ?', [url]));
      return row ? { fetchedTs: Number(row.fetched_ts), og: JSON.parse(String(row.og)) as Record<string, unknown> } : undefined;
    },

    async putPreview(url, fetchedTs, og) {
      await db.write((w) =>
        w.run(
          'INSERT INTO media_url_previews (url, fetched_ts, og) VALUES (?, ?, ?) ON CONFLICT (url) DO UPDATE SET fetched_ts = excluded.fetched_ts, og = excluded.og',
          [url, fetchedTs, JSON.stringify(og)],
        ),
      );
    },

    async deletePreviewsBefore(beforeTs) {
      return db.write((w) => w.run('DELETE FROM media_url_previews WHERE fetched_ts < ?', [beforeTs]).changes);
    },
  };
}
