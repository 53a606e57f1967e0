/**
 * The webview side of the request relay that the preview pages and the dashboard share: a typed backend
 * request (only the protocol's PAGE_REQUESTS) goes to the extension as a `request` message, which
 * forwards it to the backend and answers with a `response` message (extension/previews/pageHost.ts,
 * relayPageRequest). Every result is checked with the protocol's PAGE_RESULT_GUARDS before use.
 */
import * as P from '../../protocol/protocol';

/** Anything that can make a page request (the preview pages' Host, the dashboard's PageRequests). */
export interface Requester {
  request<M extends P.PageRequest>(method: M, params: P.RequestParams<M>): Promise<P.RequestResult<M>>;
}

export class PageRequests implements Requester {
  private nextId = 1;
  private readonly pending = new Map<number, { method: P.PageRequest; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Answers whose result failed its guard (the tests check there are none). */
  dropped = 0;

  /** `send` posts the request message to the extension. */
  constructor(private readonly send: (m: P.PageRequestMessage) => void) {}

  /** A backend request through the extension; rejects with the server's message. */
  request<M extends P.PageRequest>(method: M, params: P.RequestParams<M>): Promise<P.RequestResult<M>> {
    const id = this.nextId++;
    return new Promise<P.RequestResult<M>>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      this.send({ type: 'request', id, method, params });
    });
  }

  /** Takes a response message (already checked as one); an answer to nothing pending is ignored. */
  answer(m: P.PageResponseMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else if ((P.PAGE_RESULT_GUARDS[p.method] as (x: unknown) => boolean)(m.result)) p.resolve(m.result);
    else {
      this.dropped++;
      p.reject(new Error(`The answer to ${p.method} did not have the expected shape.`));
    }
  }

  /** Requests still waiting for their answer. */
  get waiting(): number {
    return this.pending.size;
  }
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
