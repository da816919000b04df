// Reads blobs through one long-lived `git cat-file --batch` process per repository, never one
// process per file (about 3.6 ms each). Requests are pipelined: many can be in flight at once and
// answers come back in order.
//
// A search thread that misses its deadline is terminated (src/search/search-thread-pool.ts). A
// process spawned by a thread is waited for by that thread's event loop only, so a terminated
// thread would leave its git behind as a defunct (zombie) process. Search threads therefore never
// spawn git: the calling thread runs the process (relayCatFileBatch), kills it when the search
// ends however it ends, and so reaps it; the search thread talks to it over a MessagePort
// (portTransport).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { MessagePort } from 'node:worker_threads';
import { GIT_ENV } from './run-git.ts';

export interface BlobObject {
  oid: string;
  type: string;
  content: Buffer;
}

interface Pending {
  oid: string;
  resolve: (object: BlobObject | undefined) => void;
  reject: (error: Error) => void;
}

/** The connection to one `git cat-file --batch`: a process of this thread's, or one another thread runs. */
export interface BatchTransport {
  /** Sends request lines to git's standard input. */
  write(text: string): void;
  onData(listener: (chunk: Buffer) => void): void;
  /** Once: git exited or could not start (the error says which). */
  onClose(listener: (error: Error) => void): void;
  /** Ends the process; resolves once it has exited (and was waited for). */
  close(): Promise<void>;
}

/** A cat-file process, and a promise that settles once this thread has waited for it (or it never started). */
function spawnCatFile(gitDir: string): { child: ChildProcessWithoutNullStreams; ended: Promise<void> } {
  const child = spawn('git', ['--git-dir', gitDir, 'cat-file', '--batch'], { env: { ...process.env, ...GIT_ENV } });
  const ended = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // A process that could not start emits 'error' and no 'exit'.
    child.once('error', () => resolve());
  });
  return { child, ended };
}

/** Ends a child and resolves once this thread's event loop has waited for it (no zombie left). */
function endChild(child: ChildProcessWithoutNullStreams, ended: Promise<void>): Promise<void> {
  child.stdin.end();
  child.kill();
  return ended;
}

/** A cat-file process of this thread's own. */
function localTransport(gitDir: string): BatchTransport {
  const { child, ended } = spawnCatFile(gitDir);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => {});
  return {
    write: (text) => void child.stdin.write(text),
    onData: (listener) => void child.stdout.on('data', listener),
    onClose(listener) {
      child.on('error', listener);
      child.on('close', (code) =>
        listener(new Error(`git cat-file --batch exited (${code}): ${stderr.trim() || 'no message'}`)),
      );
    },
    close: () => endChild(child, ended),
  };
}

/** Messages between relayCatFileBatch (the thread running git) and portTransport (the search thread). */
type RelayMessage = { kind: 'data'; data: Uint8Array } | { kind: 'closed'; message: string };
type RequestMessage = { kind: 'write'; text: string };

/**
 * Runs a cat-file process in this thread for another thread, which reads through `port`
 * (portTransport). `close()` kills it and resolves once it was waited for; the other thread closing
 * its port (or being terminated) ends the process too.
 */
export function relayCatFileBatch(gitDir: string, port: MessagePort): { close(): Promise<void> } {
  const { child, ended } = spawnCatFile(gitDir);
  let stderr = '';
  let open = true;
  const post = (message: RelayMessage, transfer?: ArrayBuffer[]) => {
    if (open) port.postMessage(message, transfer);
  };
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => {});
  child.stdout.on('data', (chunk: Buffer) => {
    const data = new Uint8Array(chunk); // a copy of its own, handed over without another copy
    post({ kind: 'data', data }, [data.buffer]);
  });
  child.on('error', (error) => post({ kind: 'closed', message: error.message }));
  child.on('close', (code) =>
    post({ kind: 'closed', message: `git cat-file --batch exited (${code}): ${stderr.trim() || 'no message'}` }),
  );
  port.on('message', (message: RequestMessage) => {
    if (message.kind === 'write') child.stdin.write(message.text);
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (() => {
      open = false;
      port.close();
      return endChild(child, ended);
    })();
    return closing;
  };
  port.once('close', () => void close());
  return { close };
}

/** The search thread's side of relayCatFileBatch. */
export function portTransport(port: MessagePort): BatchTransport {
  const dataListeners: Array<(chunk: Buffer) => void> = [];
  const closeListeners: Array<(error: Error) => void> = [];
  let closed = false;
  const closeWith = (error: Error) => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener(error);
  };
  port.on('message', (message: RelayMessage) => {
    if (message.kind === 'data') {
      const chunk = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
      for (const listener of dataListeners) listener(chunk);
    } else closeWith(new Error(message.message));
  });
  port.once('close', () => closeWith(new Error('git cat-file --batch: the connection to the process was closed')));
  return {
    write: (text) => port.postMessage({ kind: 'write', text } satisfies RequestMessage),
    onData: (listener) => void dataListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    close() {
      port.close();
      return Promise.resolve();
    },
  };
}

export class CatFileBatch {
  private readonly transport: BatchTransport;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  /** Header of the object being received, once read. */
  private current: { type: string; size: number } | undefined;
  private failure: Error | undefined;

  /** A repository's git directory (a process of this thread's), or a transport to a process elsewhere. */
  constructor(source: string | BatchTransport) {
    this.transport = typeof source === 'string' ? localTransport(source) : source;
    this.transport.onData((chunk) => this.receive(chunk));
    this.transport.onClose((error) => {
      this.failure ??= error;
      for (const request of this.pending.splice(0)) request.reject(this.failure);
    });
  }

  /**
   * The objects' contents (undefined for one the repository does not have), requested with one
   * write: callers read ahead in groups.
   */
  readMany(oids: string[]): Array<Promise<BlobObject | undefined>> {
    if (this.failure) return oids.map(() => Promise.reject(this.failure));
    const answers = oids.map(
      (oid) => new Promise<BlobObject | undefined>((resolve, reject) => this.pending.push({ oid, resolve, reject })),
    );
    this.transport.write(oids.map((oid) => `${oid}\n`).join(''));
    return answers;
  }

  /** Ends the process; the promise settles once it has exited and was waited for. */
  close(): Promise<void> {
    return this.transport.close();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (!this.current) {
        const newline = this.buffer.indexOf(10);
        if (newline < 0) return;
        const header = this.buffer.subarray(0, newline).toString('latin1');
        this.buffer = this.buffer.subarray(newline + 1);
        const [, type, size] = header.split(' ');
        if (type === 'missing' || size === undefined) {
          this.pending.shift()?.resolve(undefined);
          continue;
        }
        this.current = { type: type!, size: Number(size) };
      }
      const { type, size } = this.current;
      if (this.buffer.length < size + 1) return; // content plus its trailing newline
      // A view, not a copy: stream chunks and concatenations are never reused.
      const content = this.buffer.subarray(0, size);
      this.buffer = this.buffer.subarray(size + 1);
      this.current = undefined;
      const request = this.pending.shift();
      request?.resolve({ oid: request.oid, type, content });
    }
  }
}
