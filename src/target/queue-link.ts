/**
 * What the target needs of one transport connection (a TargetQueue of src/transport/tcp, or any
 * other transport's queue): set its QID and size once Connect succeeds, change how much
 * in-capsule data it accepts, learn when it closes, and close it.
 */
export interface QueueLink {
  /** Queue ID, set by the target after a successful Connect (the CQE's SQID). */
  qid: number;
  /** Submission queue entries (SQSIZE + 1), set after Connect; SQHD wraps at this. */
  sqSize: number;
  setInCapsuleDataSize(bytes: number): void;
  close(reason?: string): void;
  on(event: 'close', listener: (err?: Error) => void): unknown;
}
