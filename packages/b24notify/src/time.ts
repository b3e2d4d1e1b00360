/**
 * The `time` block of every Bitrix24 answer. The set of fields may vary by method and portal;
 * `operating` and `operating_reset_at` are cloud-only.
 */
export interface TimeBlock {
  /** Unix seconds (float) when the portal started the call. */
  start: number;
  finish: number;
  duration: number;
  /** Seconds the method took to execute. */
  processing: number;
  /** ISO 8601 with the portal's offset. */
  date_start: string;
  date_finish: string;
  /** Unix seconds when the oldest minute of this method's operating-time window drops out. */
  operating_reset_at?: number;
  /** Seconds of execution this method has accumulated for this app or webhook in the window. */
  operating?: number;
}

/** A successful answer: the result, its time block, and list paging where the method has it. */
export interface Answer<T> {
  result: T;
  /** The portal's time block (every portal answer has one; absent only if a proxy stripped it). */
  time?: TimeBlock;
  /** Total count, for list methods that count. */
  total?: number;
  /** The `start` of the next page, for list methods with more pages. */
  next?: number;
}
