/**
 * Bytes of stored objects, as immutable blobs with unguessable ids: a blob is written whole, then
 * made visible by whoever commits its id in a metadata transaction (an object's row), so a crash
 * mid-write never shows half an object and an overwrite is the atomic swap of an id. Nothing in a
 * blob changes once `put` resolved; it is deleted once no row names it. Blobs that no row names
 * (a write whose commit never came) are found with `list` and deleted by their owner's sweep.
 *
 * Streams in and out with constant memory, whatever the size.
 *
 * Drivers: disk (embedded, `src/drivers/embedded/disk-blobs.ts`); the behaviour every driver shows is
 * `src/drivers/conformance/blobs.suite.ts`.
 */
import type { Readable } from 'node:stream';

export interface PutOptions {
  /** The source is refused past this many bytes (`PAYLOAD_TOO_LARGE`), and nothing is kept. */
  readonly maxBytes?: number | undefined;
}

export interface StoredBlob {
  readonly id: string;
  readonly size: number;
}

/** Inclusive byte offsets, as an HTTP `Range` names them. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobInfo {
  readonly id: string;
  readonly size: number;
  /** When it was written, ms since the epoch. */
  readonly createdAt: number;
}

export interface Blobs {
  /**
   * Stores what `source` yields as a new blob and resolves once it is durable. Rejects if the source
   * fails or is over `maxBytes`; nothing of it is then kept.
   */
  put(source: AsyncIterable<Uint8Array> | Readable, options?: PutOptions): Promise<StoredBlob>;
  /** The blob's bytes, or those of `range` (clamped to its end). Rejects with `BLOB_NOT_FOUND`. */
  get(id: string, range?: ByteRange): Promise<Readable>;
  /** Rejects with `BLOB_NOT_FOUND`. */
  stat(id: string): Promise<BlobInfo>;
  /** Deletes the blobs; ids that name none are ignored. */
  delete(ids: readonly string[]): Promise<void>;
  /** Every blob, in no particular order: for the sweep of those no row names. */
  list(): AsyncIterable<BlobInfo>;
  /** Waits for writes under way; later calls fail with `SHUTTING_DOWN`. */
  close(): Promise<void>;
}
