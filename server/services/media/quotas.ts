/**
 * Upload quotas: bytes per user and bytes in total (settings userMediaQuotaBytes,
 * totalMediaQuotaBytes). Stored usage comes from the metadata; bytes of uploads still streaming are
 * counted here too, so concurrent uploads cannot together slip past a quota. Exceeding a quota is
 * 403 M_FORBIDDEN, as content-repo.yaml specifies for "reached a quota for uploaded content".
 */
import { MatrixError } from '../../errors.ts';
import type { MediaStore } from '../../storage/media.ts';

export interface QuotaSettings {
  userMediaQuotaBytes?: number;
  totalMediaQuotaBytes?: number;
}

export interface QuotaReservation {
  /** Counts bytes as they arrive; throws 403 M_FORBIDDEN when a quota would be passed. */
  add(bytes: number): void;
  /** Stops counting this upload's bytes (after its row is written, or on failure). */
  release(): void;
}

const quotaExceeded = (msg: string): MatrixError => new MatrixError(403, 'M_FORBIDDEN', msg);

export class MediaQuotas {
  private readonly inflightByUser = new Map<string, number>();
  private inflightTotal = 0;

  constructor(
    private readonly store: Pick<MediaStore, 'userUsage' | 'totalUsage'>,
    private readonly settings: () => QuotaSettings,
  ) {}

  /** Begins an upload by `userId` (null: server-owned, e.g. URL preview images and remote media,
   * which count only against the total). `declaredBytes` (Content-Length) is checked up front.
   * Stored usage is read once here, not per chunk: uploads finishing meanwhile can at worst let
   * this one pass a quota by their size, which is not worth a query per 64 KiB. */
  begin(userId: string | null, declaredBytes = 0): QuotaReservation {
    const { userMediaQuotaBytes: perUser, totalMediaQuotaBytes: total } = this.settings();
    const storedUser = userId !== null && perUser !== undefined ? this.store.userUsage(userId) : 0;
    const storedTotal = total !== undefined ? this.store.totalUsage() : 0;
    const check = (extra: number): void => {
      if (userId !== null && perUser !== undefined && storedUser + (this.inflightByUser.get(userId) ?? 0) + extra > perUser) {
        throw quotaExceeded('Your media quota is used up: delete some uploads or ask the server admin for more space');
      }
      if (total !== undefined && storedTotal + this.inflightTotal + extra > total) {
        throw quotaExceeded('The server has no room for more media: ask the server admin');
      }
    };
    check(declaredBytes);
    let counted = 0;
    let released = false;
    return {
      add: (bytes) => {
        check(bytes);
        counted += bytes;
        this.inflightTotal += bytes;
        if (userId !== null) this.inflightByUser.set(userId, (this.inflightByUser.get(userId) ?? 0) + bytes);
      },
      release: () => {
        if (released) return;
        released = true;
        this.inflightTotal -= counted;
        if (userId !== null) {
          const left = (this.inflightByUser.get(userId) ?? 0) - counted;
          if (left > 0) this.inflightByUser.set(userId, left);
          else this.inflightByUser.delete(userId);
        }
      },
    };
  }
}
