// The messages between the page and the service worker (`sw.ts`).

/** The virtual URL of a stored film: `/stream/<licence id>`, answered by the service worker. */
export const STREAM_PREFIX = '/stream/';

export type PageToWorker =
  /** The film's edition key (a non-extractable CryptoKey: the raw bytes never leave the page). */
  | { type: 'key'; licence: string; key: CryptoKey; perChunk: number }
  | { type: 'forget'; licence: string }
  | { type: 'status'; licence: string };

export type WorkerToPage =
  | { type: 'ok' }
  | { type: 'error'; message: string }
  | { type: 'status'; loaded: boolean; failure: string | null }
  /** A segment failed to open: playback of `licence` must stop with `message`. */
  | { type: 'film-error'; licence: string; message: string }
  /** The worker was restarted and lost the key of `licence`: answer on the port with `key`. */
  | { type: 'need-key'; licence: string };
