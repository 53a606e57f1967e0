/**
 * The page's side of the preview messages: typed requests forwarded by the extension to the backend
 * (every answer checked with the protocol's PAGE_RESULT_GUARDS), checked notifications, and the
 * extension's other messages. Nothing from the host is used before its guard passed.
 */
import * as P from '../../protocol/protocol';
import { PageRequests, type Requester } from '../common/requests';

/** What `acquireVsCodeApi()` returns. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

type Listener = (m: P.ToPreviewPage) => void;

export class Host implements Requester {
  private readonly requests = new PageRequests((m) => this.post(m));
  private readonly listeners = new Set<Listener>();
  /** Messages that failed their guard. */
  private droppedMessages = 0;

  constructor(private readonly api: VsCodeApi) {
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
  }

  /** Messages and answers that failed their guard (the tests check there are none). */
  get dropped(): number {
    return this.droppedMessages + this.requests.dropped;
  }

  post(m: P.FromPreviewPage): void {
    this.api.postMessage(m);
  }

  /** A backend request through the extension; rejects with the server's message. */
  request<M extends P.PageRequest>(method: M, params: P.RequestParams<M>): Promise<P.RequestResult<M>> {
    return this.requests.request(method, params);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(raw: unknown): void {
    if (!P.isToPreviewPage(raw)) {
      this.droppedMessages++;
      return;
    }
    if (raw.type === 'response') return this.requests.answer(raw);
    for (const l of [...this.listeners]) l(raw);
  }
}

/** Resolves when a job's jobEnded arrives; `onProgress` sees its samplingProgress notifications. */
export function followJob(host: Host, jobId: string, onProgress: (p: P.SamplingProgressParams) => void): Promise<P.JobEndedParams> {
  return new Promise((resolve) => {
    const off = host.on((m) => {
      if (m.type !== 'notification') return;
      if (m.method === P.SamplingProgress && P.isSamplingProgress(m.params) && m.params.jobId === jobId) onProgress(m.params);
      if (m.method === P.JobEnded && P.isJobEnded(m.params) && m.params.jobId === jobId) {
        off();
        resolve(m.params);
      }
    });
  });
}

/** base64 little-endian float32 (or a number array) -> Float32Array. */
export function decodeFloats(v: P.FloatValues): Float32Array {
  if (Array.isArray(v)) return Float32Array.from(v);
  const bin = atob(v);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
}

/** Float32Array -> base64 little-endian float32 (the protocol's compact FloatValues). */
export function encodeFloats(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
